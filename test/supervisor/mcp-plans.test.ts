import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadRepository, resolveBlueprint } from '../../src/config/index.ts';
import { isPaddockError } from '../../src/core/index.ts';
import { type McpServerPlan, mcpServerPlans, toolNames } from '../../src/supervisor/index.ts';

// From the desired state to the gateway's plan: each server a blueprint names, reached as its
// shared service says; and the exposed-name table, where a collision is a start-up error.

const plan = (name: string, toolPrefix: string, allow: string[]): McpServerPlan => ({
  name,
  toolPrefix,
  allow,
  connection: { transport: 'http', url: 'https://mcp.example.com/' },
});

describe('mcpServerPlans', () => {
  it("plans the example repository's servers: remote github, sandboxed wiki with its egress", async () => {
    const { state } = await loadRepository(new URL('../../examples/platform/', import.meta.url).pathname);
    const service = (name: string) => state.services.get(name)?.value;
    const review = mcpServerPlans(resolveBlueprint(state, 'code-review').blueprint, service);
    assert.deepEqual(review, [
      {
        name: 'github',
        allow: [
          'get_pull_request',
          'list_pull_request_files',
          'get_file_contents',
          'create_pending_review',
          'add_comment_to_pending_review',
          'submit_pending_review',
        ],
        toolPrefix: 'github__',
        connection: { transport: 'http', url: 'https://api.githubcopilot.com/mcp/' },
        credential: 'github-token',
      },
    ]);
    const [wiki] = mcpServerPlans(resolveBlueprint(state, 'docs-research').blueprint, service);
    assert.deepEqual(wiki, {
      name: 'wiki',
      allow: ['search_pages', 'get_page', 'list_spaces'],
      toolPrefix: 'wiki__',
      connection: {
        transport: 'stdio',
        command: ['/opt/wiki-mcp/bin/wiki-mcp', '--base-url', 'https://wiki.example.com'],
        credentialEnv: 'WIKI_TOKEN',
        read: ['/opt/wiki-mcp'],
      },
      credential: 'wiki-token',
      egress: { hosts: ['wiki.example.com'], ports: [443], access: 'read-only' },
    });
  });

  it('refuses a blueprint naming a server without a definition', async () => {
    const { state } = await loadRepository(new URL('../../examples/platform/', import.meta.url).pathname);
    const blueprint = resolveBlueprint(state, 'code-review').blueprint;
    assert.throws(
      () => mcpServerPlans(blueprint, () => undefined),
      (error) =>
        isPaddockError(error, 'PDK_MCP_CONFIG_INVALID') &&
        error.message ===
          'blueprint "code-review" names MCP servers with no definition: "github" (add spec.mcp to services/github.yaml)',
    );
  });
});

describe('toolNames', () => {
  it('maps exposed names to servers and back, for allowed tools only', () => {
    const names = toolNames([plan('github', 'github__', ['get_issue']), plan('wiki', '', ['search'])]);
    assert.deepEqual(names.resolve('github__get_issue'), { server: 'github', tool: 'get_issue' });
    assert.deepEqual(names.resolve('search'), { server: 'wiki', tool: 'search' });
    assert.equal(names.resolve('github__merge'), undefined);
    assert.equal(names.expose('github', 'get_issue'), 'github__get_issue');
    assert.equal(names.allows('github', 'get_issue'), true);
    assert.equal(names.allows('github', 'search'), false);
    assert.equal(names.allows('wiki', 'search'), true);
  });

  it('refuses two allowed tools under one name, and names over 128 characters', () => {
    assert.throws(
      () => toolNames([plan('a', '', ['get']), plan('b', '', ['get'])]),
      (error) =>
        isPaddockError(error, 'PDK_MCP_CONFIG_INVALID') &&
        /tool "get" of "b" and tool "get" of "a" are both exposed as "get"/.test(error.message),
    );
    assert.throws(
      () => toolNames([plan('a', 'a__', ['x'.repeat(130)])]),
      (error) =>
        isPaddockError(error, 'PDK_MCP_CONFIG_INVALID') &&
        /133 characters \(at most 128\)/.test(error.message),
    );
  });
});
