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
  WAREHOUSE,
  without,
} from './inheritance-table.ts';

// Children that only narrow their parent (docs/blueprints.md, "Inheritance"):
// each resolves with no problem at all.

const NARROWING: readonly Case[] = [
  { name: "the parent's own spec", child: BASE },
  { name: 'only a goal: everything inherited', child: {} },
  { name: 'fewer hosts and services', child: { services: [github({ hosts: ['api.github.com'] })] } },
  {
    name: 'an exact host under a parent wildcard',
    child: { services: [github({ hosts: ['objects.githubusercontent.com'] })] },
  },
  {
    name: 'read-only instead of read-write, no credential',
    child: { services: [without(github({ access: 'read-only' }), 'credential')] },
  },
  {
    name: 'access and rules added to an L4-only service',
    child: {
      services: [{ ...REGISTRY, access: 'read-only', rules: [{ methods: ['GET'], paths: ['/**'] }] }],
    },
  },
  {
    name: 'narrower rules',
    child: {
      services: [
        github({
          rules: [
            { methods: ['GET'], paths: ['/repos/*/*/pulls/**', '/repos/acme/*'] },
            { methods: ['POST'], paths: ['/repos/acme/*/pulls/*/reviews'] },
          ],
        }),
      ],
    },
  },
  { name: 'a narrower CIDR', child: { services: [{ ...WAREHOUSE, cidrs: ['10.20.5.0/24'] }] } },
  {
    name: 'a narrower data scope',
    child: {
      dataScope: {
        read: ['/workspace/src', '/usr/lib'],
        write: ['/workspace/out'],
        deny: ['/workspace/.env', '/workspace/.git'],
      },
    },
  },
  {
    name: 'reading what the parent lets the agent write',
    parent: { dataScope: { read: [], write: ['/workspace'], deny: [] } },
    child: { dataScope: { read: ['/workspace'], write: [], deny: [] } },
  },
  {
    name: "a deny covering the parent's deny",
    child: { dataScope: { read: ['/usr'], write: [], deny: ['/workspace'] } },
  },
  {
    name: 'narrower commands and more denies',
    child: {
      tools: { commands: { allow: ['git status', 'npm run test *'], deny: ['git push*', 'curl *', 'rm *'] } },
    },
  },
  { name: 'fewer MCP tools', child: { tools: { mcp: [{ server: 'github', allow: ['get_pull_request'] }] } } },
  {
    name: 'a new write on an L4-only service',
    child: {
      writes: [
        REVIEWS_WRITE,
        { service: 'registry', methods: ['PUT'], paths: ['/-/package/**'], review: 'none' },
      ],
    },
  },
  {
    name: 'a gated write dropped with the service that made it',
    child: { services: [REGISTRY], writes: [] },
  },
  {
    name: 'a required write split by method and path',
    parent: {
      services: [without(GITHUB, 'rules')],
      writes: [{ ...REVIEWS_WRITE, methods: ['POST', 'PUT'] }],
    },
    child: {
      writes: [
        { ...REVIEWS_WRITE, methods: ['PUT'] },
        { ...REVIEWS_WRITE, methods: ['POST', 'PATCH'], review: 'required' },
      ],
    },
  },
  {
    name: 'stricter review gates',
    child: {
      reviewGates: { reviewers: ['group:appsec'], minApprovals: 3, timeout: '1h', onTimeout: 'deny' },
    },
  },
  {
    name: 'more redaction, longer retention',
    child: {
      logging: { toolArguments: 'redacted', redact: ['(?i)password', '(?i)token'], retention: '400d' },
    },
  },
  {
    name: 'full -> redacted',
    parent: { logging: { toolArguments: 'full' } },
    child: { logging: { toolArguments: 'redacted' } },
  },
  {
    name: 'none -> redacted',
    parent: { logging: { toolArguments: 'none' } },
    child: { logging: { toolArguments: 'redacted' } },
  },
  {
    name: "keeps the parent's sandbox waiver",
    parent: { ...BASE, sandbox: LANDLOCK_WAIVER },
    child: { sandbox: LANDLOCK_WAIVER },
  },
  {
    name: "drops the parent's sandbox waiver (every layer required)",
    parent: { ...BASE, sandbox: LANDLOCK_WAIVER },
    child: { sandbox: { allowMissing: [] } },
  },
  {
    name: 'an empty sandbox section under a parent without one',
    child: { sandbox: {} },
  },
  {
    name: 'a named service whose shared definition is narrower',
    services: {
      github: {
        hosts: ['api.github.com'],
        access: 'read-only',
        rules: [{ methods: ['GET'], paths: ['/repos/**'] }],
      },
    },
    child: { services: [{ name: 'github' }] },
  },
];

describe('blueprint narrowing: narrowings are accepted', () => {
  it('covers at least 12 narrowings', () => {
    assert.ok(NARROWING.length >= 12);
  });

  for (const testCase of NARROWING) {
    it(testCase.name, () => {
      const { resolved, problems } = problemsOf(testCase);
      assert.deepEqual(problems, []);
      assert.ok(resolved.has('child'));
    });
  }
});
