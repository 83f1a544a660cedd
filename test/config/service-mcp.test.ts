import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkReferences } from '../../src/config/check-references.ts';
import { loadRepository } from '../../src/config/load-repository.ts';
import type { ConfigProblem } from '../../src/config/repository.ts';
import { validateRepository } from '../../src/config/validate-repository.ts';
import { BLUEPRINT, SERVICE, VALID_REPO, writeRepo } from './temp-repo.ts';

// spec.mcp of a shared service (how the MCP gateway reaches it) and the references a
// blueprint's spec.tools.mcp makes to it.

const lines = (problems: readonly ConfigProblem[]) =>
  problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`);

const WITH_MCP = BLUEPRINT.replace(
  'spec:\n  goal: Review pull requests.\n',
  'spec:\n  goal: Review pull requests.\n  tools:\n    mcp:\n      - server: github\n        allow: [get_issue, list_issues]\n',
);

const HTTP_MCP = `${SERVICE}  credential: github-token\n  mcp:\n    transport: http\n    url: https://api.githubcopilot.com/mcp/\n`;

async function problemsOf(files: Record<string, string>): Promise<string[]> {
  const result = await validateRepository(writeRepo({ ...VALID_REPO, ...files }));
  return lines(result.problems);
}

describe('Service spec.mcp', () => {
  it('accepts a remote server and a stdio server without hosts', async () => {
    assert.deepEqual(
      await problemsOf({
        'services/github.yaml': HTTP_MCP,
        'services/files.yaml': `apiVersion: paddock.dev/v1
kind: Service
metadata:
  name: files
spec:
  mcp:
    transport: stdio
    command: [/usr/bin/node, /opt/files-mcp/index.js]
    read: [/opt/files-mcp]
    env: { FILES_ROOT: /workspace }
    toolPrefix: fs.
`,
      }),
      [],
    );
  });

  it('rejects plain http to a non-loopback host, userinfo in the URL, and unknown keys', async () => {
    const bad = await problemsOf({
      'services/github.yaml': HTTP_MCP.replace(
        'https://api.githubcopilot.com/mcp/',
        'http://mcp.example.com/mcp',
      ).replace('transport: http\n', 'transport: http\n    headers: {}\n'),
      'services/jira.yaml': HTTP_MCP.replace('name: github', 'name: jira').replace(
        'https://api.githubcopilot.com/mcp/',
        'https://user:pw@mcp.example.com/',
      ),
    });
    assert.equal(bad.length, 3, bad.join('\n'));
    assert.match(
      bad[0]!,
      /^services\/github\.yaml:11:5 spec\.mcp\.headers: unknown field "headers"; allowed fields: transport, url, toolPrefix$/,
    );
    assert.match(bad[1]!, /spec\.mcp\.url: must be an https:\/\/ URL without user, password or fragment/);
    assert.match(bad[2]!, /^services\/jira\.yaml:.* spec\.mcp\.url: must be an https:\/\/ URL/);
  });

  it('refuses an MCP URL on one of the service hosts: the agent could reach it past the gateway', async () => {
    const problems = await problemsOf({
      'services/github.yaml': HTTP_MCP.replace(
        'https://api.githubcopilot.com/mcp/',
        'https://api.github.com/mcp',
      ),
    });
    assert.deepEqual(problems, [
      "services/github.yaml:11:10 spec.mcp.url: the MCP server's host api.github.com is also in hosts (api.github.com), so an agent allowed this service could call it directly and bypass the MCP gateway: serve MCP from a host not in hosts, or define it as a separate service",
    ]);
  });

  it('requires hosts unless the server is stdio, and a credential for credentialEnv', async () => {
    const problems = await problemsOf({
      'services/github.yaml': HTTP_MCP.replace('  hosts: [api.github.com]\n', ''),
      'services/files.yaml': `apiVersion: paddock.dev/v1
kind: Service
metadata:
  name: files
spec:
  mcp:
    transport: stdio
    command: [files-mcp]
    credentialEnv: FILES_TOKEN
`,
    });
    assert.deepEqual(
      problems.map((line) => line.replace(/:\d+:\d+ /, ' ')),
      [
        'services/files.yaml spec.mcp.credentialEnv: credentialEnv needs spec.credential: name the secret whose placeholder the server receives',
        'services/github.yaml spec.hosts: hosts is required (only an MCP server with transport stdio may have none: then it has no network)',
      ],
    );
  });
});

describe('blueprint spec.tools.mcp references', () => {
  it('needs each server to be a service with spec.mcp', async () => {
    const { state } = await loadRepository(
      writeRepo({
        ...VALID_REPO,
        'blueprints/code-review.yaml': WITH_MCP.replace('- server: github', '- server: githb'),
      }),
    );
    assert.deepEqual(lines(checkReferences(state)), [
      'blueprints/code-review.yaml:13:17 spec.tools.mcp[0].server: MCP server "githb": services/ defines no service of that name: add services/githb.yaml with spec.mcp; did you mean "github"?',
    ]);
    const { state: plain } = await loadRepository(
      writeRepo({ ...VALID_REPO, 'blueprints/code-review.yaml': WITH_MCP }),
    );
    assert.deepEqual(lines(checkReferences(plain)), [
      'blueprints/code-review.yaml:13:17 spec.tools.mcp[0].server: MCP server "github": services/ defines "github" without spec.mcp: add spec.mcp (transport stdio or http) to it',
    ]);
  });

  it('reports two allowed tools exposed under one name (bare names)', async () => {
    const problems = await problemsOf({
      'services/github.yaml': `${HTTP_MCP}    toolPrefix: ""\n`,
      'services/jira.yaml': `${HTTP_MCP.replace('name: github', 'name: jira').replace(
        'api.githubcopilot.com/mcp/',
        'mcp.tickets.example.com/',
      )}    toolPrefix: ""\n`,
      'blueprints/code-review.yaml': WITH_MCP.replace(
        '        allow: [get_issue, list_issues]\n',
        '        allow: [get_issue, list_issues]\n      - server: jira\n        allow: [get_issue]\n',
      ),
    });
    assert.deepEqual(problems, [
      'blueprints/code-review.yaml:16:17 spec.tools.mcp[1].allow[0]: tool "get_issue" of "jira" would be exposed as "get_issue", like github/get_issue: give one of the services a distinct spec.mcp.toolPrefix',
    ]);
  });

  it('refuses an MCP-only service in spec.services: it grants no host', async () => {
    const problems = await problemsOf({
      'services/github.yaml': `apiVersion: paddock.dev/v1
kind: Service
metadata:
  name: github
spec:
  mcp:
    transport: stdio
    command: [github-mcp-server, stdio]
`,
    });
    assert.ok(
      problems.some((line) =>
        line.endsWith(
          'spec.services[0].name: service "github" has no hosts (services/github.yaml defines only an MCP server): name it in spec.tools.mcp, not in spec.services',
        ),
      ),
      problems.join('\n'),
    );
  });
});
