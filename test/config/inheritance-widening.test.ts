import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Case } from './inheritance-table.ts';
import {
  BASE,
  GITHUB,
  github,
  LANDLOCK_WAIVER,
  problemsOf,
  REGISTRY,
  REVIEWS_WRITE,
  W,
  WAREHOUSE,
  without,
} from './inheritance-table.ts';

// Every way a child can widen its parent (docs/blueprints.md, "Inheritance"):
// each case asserts the exact field path and message of every problem.

const WIDENING: readonly Case[] = [
  {
    name: 'adds a host',
    child: { services: [github({ hosts: ['api.github.com', 'uploads.github.com'] })] },
    widens: [['spec.services[0].hosts', W('spec.services[github].hosts', 'adds "uploads.github.com"')]],
  },
  {
    name: 'wildcard host over an exact parent host',
    child: { services: [github({ hosts: ['*.github.com'] })] },
    widens: [['spec.services[0].hosts', W('spec.services[github].hosts', 'adds "*.github.com"')]],
  },
  {
    name: 'host two labels below a parent wildcard',
    child: { services: [github({ hosts: ['a.b.githubusercontent.com'] })] },
    widens: [
      ['spec.services[0].hosts', W('spec.services[github].hosts', 'adds "a.b.githubusercontent.com"')],
    ],
  },
  {
    name: 'adds a port',
    child: { services: [github({ ports: [443, 8443] })] },
    widens: [['spec.services[0].ports', W('spec.services[github].ports', 'adds 8443')]],
  },
  {
    name: 'port default [443] on a parent without ports',
    child: { services: [{ ...REGISTRY, ports: [80] }] },
    widens: [['spec.services[0].ports', W('spec.services[registry].ports', 'adds 80')]],
  },
  {
    name: 'adds a service',
    child: { services: [GITHUB, { name: 'gitlab', hosts: ['gitlab.com'] }] },
    widens: [['spec.services[1]', W('spec.services[gitlab]', 'adds service "gitlab"')]],
  },
  {
    name: 'wider access',
    child: { services: [github({ access: 'full' })] },
    widens: [
      ['spec.services[0].access', W('spec.services[github].access', '"full" is wider than "read-write"')],
    ],
  },
  {
    name: 'removes access',
    child: { services: [without(GITHUB, 'access')] },
    widens: [
      [
        'spec.services[0].access',
        W(
          'spec.services[github].access',
          'removes access "read-write" (L4-only: any method, nothing inspected)',
        ),
      ],
    ],
  },
  {
    name: 'removes rules',
    child: { services: [without(GITHUB, 'rules')] },
    widens: [
      ['spec.services[0].rules', W('spec.services[github].rules', "removes the parent's rules (any path)")],
    ],
  },
  {
    name: 'rule path wider',
    child: { services: [github({ rules: [{ methods: ['GET'], paths: ['/**'] }] })] },
    widens: [['spec.services[0].rules[0]', W('spec.services[github].rules[0]', 'adds "GET /**"')]],
  },
  {
    name: 'rule method the parent rules lack',
    child: { services: [github({ rules: [{ methods: ['GET', 'DELETE'], paths: ['/repos/**'] }] })] },
    widens: [['spec.services[0].rules[0]', W('spec.services[github].rules[0]', 'adds "DELETE /repos/**"')]],
  },
  {
    name: 'rule "**" where the parent has "*"',
    child: { services: [github({ rules: [{ methods: ['POST'], paths: ['/repos/**/reviews'] }] })] },
    widens: [
      ['spec.services[0].rules[0]', W('spec.services[github].rules[0]', 'adds "POST /repos/**/reviews"')],
    ],
  },
  {
    name: 'rule beyond a read-only parent',
    parent: { services: [{ ...REGISTRY, access: 'read-only' }] },
    child: {
      services: [
        { ...REGISTRY, access: 'read-only', rules: [{ methods: ['PUT'], paths: ['/-/package/**'] }] },
      ],
    },
    widens: [
      ['spec.services[0].rules[0]', W('spec.services[registry].rules[0]', 'adds "PUT /-/package/**"')],
    ],
  },
  {
    name: 'changes the credential',
    child: { services: [github({ credential: 'github-admin' })] },
    widens: [
      [
        'spec.services[0].credential',
        W('spec.services[github].credential', 'changes credential "github-pat" to "github-admin"'),
      ],
    ],
  },
  {
    name: 'adds a credential',
    child: { services: [{ ...REGISTRY, credential: 'npm-token' }] },
    widens: [
      ['spec.services[0].credential', W('spec.services[registry].credential', 'adds credential "npm-token"')],
    ],
  },
  {
    name: 'wider CIDR',
    child: { services: [{ ...WAREHOUSE, cidrs: ['10.0.0.0/8'] }] },
    widens: [['spec.services[0].cidrs', W('spec.services[warehouse].cidrs', 'adds "10.0.0.0/8"')]],
  },
  {
    name: 'reads outside the parent',
    child: { dataScope: { ...BASE.dataScope, read: ['/workspace/src', '/etc'] } },
    widens: [['spec.dataScope.read', W('spec.dataScope.read', 'adds "/etc"')]],
  },
  {
    name: 'a sibling that shares a prefix',
    child: { dataScope: { ...BASE.dataScope, read: ['/workspace-old'] } },
    widens: [['spec.dataScope.read', W('spec.dataScope.read', 'adds "/workspace-old"')]],
  },
  {
    name: 'writes a read-only path',
    child: { dataScope: { ...BASE.dataScope, write: ['/workspace', '/usr/local'] } },
    widens: [['spec.dataScope.write', W('spec.dataScope.write', 'adds "/usr/local"')]],
  },
  {
    name: 'drops a deny',
    child: { dataScope: { ...BASE.dataScope, deny: ['/workspace/.git'] } },
    widens: [['spec.dataScope.deny', W('spec.dataScope.deny', 'removes "/workspace/.env"')]],
  },
  {
    name: 'allows a command the parent does not',
    child: {
      tools: { commands: { allow: ['git status', 'curl *', 'npm *'], deny: BASE.tools.commands.deny } },
    },
    widens: [['spec.tools.commands.allow', W('spec.tools.commands.allow', 'adds "curl *", "npm *"')]],
  },
  {
    name: "a pattern wider than the parent's",
    parent: { tools: { commands: { allow: ['git status'], deny: [] } } },
    child: { tools: { commands: { allow: ['git *'], deny: [] } } },
    widens: [['spec.tools.commands.allow', W('spec.tools.commands.allow', 'adds "git *"')]],
  },
  {
    name: 'commands where the parent has none',
    parent: {},
    child: { tools: { commands: { allow: ['ls *'] } } },
    widens: [['spec.tools.commands.allow', W('spec.tools.commands.allow', 'adds "ls *"')]],
  },
  {
    name: 'shrinks the deny list',
    child: { tools: { commands: { allow: ['git *'], deny: ['git push *'] } } },
    widens: [['spec.tools.commands.deny', W('spec.tools.commands.deny', 'removes "curl *"')]],
  },
  {
    name: 'adds an MCP server',
    child: { tools: { mcp: [{ server: 'jira', allow: ['get_issue'] }] } },
    widens: [['spec.tools.mcp[0]', W('spec.tools.mcp[jira]', 'adds server "jira"')]],
  },
  {
    name: 'adds an MCP tool',
    child: { tools: { mcp: [{ server: 'github', allow: ['get_pull_request', 'merge_pull_request'] }] } },
    widens: [['spec.tools.mcp[0].allow', W('spec.tools.mcp[github].allow', 'adds "merge_pull_request"')]],
  },
  {
    name: 'drops a required write',
    child: { writes: [] },
    widens: [
      ['spec.writes', W('spec.writes', 'drops required review of "github POST /repos/*/*/pulls/*/reviews"')],
    ],
  },
  {
    name: 'review required -> none',
    child: { writes: [{ ...REVIEWS_WRITE, review: 'none' }] },
    widens: [
      [
        'spec.writes[0].review',
        W(
          'spec.writes[0].review',
          'changes review of "github POST /repos/*/*/pulls/*/reviews" from required to none',
        ),
      ],
    ],
  },
  {
    name: 'a write the parent services do not allow',
    child: {
      writes: [
        REVIEWS_WRITE,
        { service: 'github', methods: ['DELETE'], paths: ['/repos/**'], review: 'required' },
      ],
    },
    widens: [
      [
        'spec.writes[1]',
        W(
          'spec.writes[1]',
          'adds "github DELETE /repos/**" (not allowed by the parent\'s services or writes)',
        ),
      ],
    ],
  },
  {
    name: 'adds a reviewer',
    child: { reviewGates: { ...BASE.reviewGates, reviewers: ['group:appsec', 'group:everyone'] } },
    widens: [['spec.reviewGates.reviewers', W('spec.reviewGates.reviewers', 'adds "group:everyone"')]],
  },
  {
    name: 'fewer approvals',
    child: { reviewGates: { ...BASE.reviewGates, minApprovals: 1 } },
    widens: [['spec.reviewGates.minApprovals', W('spec.reviewGates.minApprovals', 'lowers 2 to 1')]],
  },
  {
    name: 'omitted minApprovals is the default 1',
    child: { reviewGates: { reviewers: ['group:appsec'] } },
    widens: [['spec.reviewGates.minApprovals', W('spec.reviewGates.minApprovals', 'lowers 2 to 1')]],
  },
  {
    name: 'longer timeout',
    child: { reviewGates: { ...BASE.reviewGates, timeout: '1d' } },
    widens: [['spec.reviewGates.timeout', W('spec.reviewGates.timeout', 'lengthens 4h to 1d')]],
  },
  {
    name: 'allow on timeout',
    child: { reviewGates: { ...BASE.reviewGates, onTimeout: 'allow' } },
    widens: [['spec.reviewGates.onTimeout', W('spec.reviewGates.onTimeout', 'changes "deny" to "allow"')]],
  },
  {
    name: 'stops recording tool arguments',
    child: { logging: { ...BASE.logging, toolArguments: 'none' } },
    widens: [
      [
        'spec.logging.toolArguments',
        W('spec.logging.toolArguments', 'changes "redacted" to "none" (stops recording tool arguments)'),
      ],
    ],
  },
  {
    name: 'records tool arguments unredacted',
    child: { logging: { ...BASE.logging, toolArguments: 'full' } },
    widens: [
      [
        'spec.logging.toolArguments',
        W('spec.logging.toolArguments', 'changes "redacted" to "full" (records tool arguments unredacted)'),
      ],
    ],
  },
  {
    name: 'drops a redact pattern',
    child: { logging: { ...BASE.logging, redact: ['(?i)token'] } },
    widens: [['spec.logging.redact', W('spec.logging.redact', 'removes "(?i)password"')]],
  },
  {
    name: 'shorter retention',
    child: { logging: { ...BASE.logging, retention: '30d' } },
    widens: [['spec.logging.retention', W('spec.logging.retention', 'shortens 365d to 30d')]],
  },
  {
    name: 'adds a sandbox waiver the parent does not have',
    child: { sandbox: LANDLOCK_WAIVER },
    widens: [
      [
        'spec.sandbox.allowMissing',
        W('spec.sandbox.allowMissing', 'adds "landlock" (the sandbox may start without that layer)'),
      ],
    ],
  },
  {
    name: 'adds a sandbox waiver where the parent requires every layer explicitly',
    parent: { ...BASE, sandbox: { allowMissing: [] } },
    child: { sandbox: LANDLOCK_WAIVER },
    widens: [
      [
        'spec.sandbox.allowMissing',
        W('spec.sandbox.allowMissing', 'adds "landlock" (the sandbox may start without that layer)'),
      ],
    ],
  },
  {
    name: 'a host moved to a service without its required review',
    parent: {
      services: [
        { name: 'strict', hosts: ['api.example.com'], access: 'read-write' },
        { name: 'lax', hosts: ['*.example.com'], access: 'read-write' },
      ],
      writes: [{ service: 'strict', methods: ['POST'], paths: ['/**'], review: 'required' }],
    },
    child: { services: [{ name: 'lax', hosts: ['*.example.com'], access: 'read-write' }] },
    widens: [
      [
        'spec.services[0].hosts',
        W(
          'spec.services[lax].hosts',
          'takes over "api.example.com:443" from service "strict", and compared with it its writes drop the required review of "strict POST /**"',
        ),
      ],
    ],
  },
  {
    name: 'a named service whose shared definition is wider',
    services: {
      github: {
        hosts: ['api.github.com', 'uploads.github.com'],
        access: 'read-write',
        rules: GITHUB.rules,
        credential: 'github-pat',
      },
    },
    child: { services: [{ name: 'github' }] },
    widens: [['spec.services[0].hosts', W('spec.services[github].hosts', 'adds "uploads.github.com"')]],
  },
];

describe('blueprint narrowing: widenings are reported', () => {
  it('covers at least 25 widenings', () => {
    assert.ok(WIDENING.length >= 25);
  });

  for (const testCase of WIDENING) {
    it(testCase.name, () => {
      const { resolved, problems } = problemsOf(testCase);
      assert.deepEqual(
        problems.map((p) => [p.path, p.message]),
        testCase.widens,
      );
      for (const problem of problems) assert.equal(problem.file, 'blueprints/child.yaml');
      assert.equal(resolved.has('child'), false);
    });
  }
});
