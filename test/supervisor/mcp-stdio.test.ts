import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { OcsfEvent } from '../../src/audit/index.ts';
import { createEphemeralWorkspaceCa } from '../../src/supervisor/egress/index.ts';
import {
  type McpServerPlan,
  sandboxedStdioLauncher,
  type StdioLauncher,
} from '../../src/supervisor/index.ts';
import { ALLOWED, CONTEXT, type GatewayHarness, startGateway, testDecide, textOf } from './mcp-support.ts';

// A stdio MCP server (the SDK's McpServer over StdioServerTransport) spawned by the gateway in
// a REAL sandbox of its own: bubblewrap, seccomp, Landlock, a private /workspace, and its own
// network namespace whose egress gateway holds the credential. Needs root, like every sandbox;
// a host that cannot run one fails here with the launcher's error, never a skip.

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SERVER = fileURLToPath(new URL('./fixtures/mcp-test-server.ts', import.meta.url));

/** The real decision point, for a blueprint that also allows the environment tool. */
const decideWiki = testDecide(['wiki'], [...ALLOWED, 'environment']);

function stdioPlan(extra: Partial<McpServerPlan> = {}): McpServerPlan {
  return {
    name: 'wiki',
    allow: [...ALLOWED, 'environment'],
    toolPrefix: 'wiki__',
    connection: {
      transport: 'stdio',
      command: [process.execPath, SERVER, '--stdio'],
      env: { PADDOCK_TEST_MARK: 'from-spec-env' },
      credentialEnv: 'WIKI_TOKEN',
      read: [REPO],
    },
    credential: 'wiki-token',
    egress: { hosts: ['wiki.example.com'], ports: [443] },
    ...extra,
  };
}

describe('MCP gateway: stdio servers in their own sandbox', () => {
  const workRoot = mkdtempSync(join(tmpdir(), 'pdk-mcp-stdio-'));
  const egressEvents: OcsfEvent[] = [];
  let launch: StdioLauncher;
  let harness: GatewayHarness;

  before(async () => {
    launch = sandboxedStdioLauncher({
      workRoot,
      ca: createEphemeralWorkspaceCa({ commonName: 'mcp-stdio-test' }),
      secrets: { get: async () => 'the-real-wiki-secret' },
      onEvent: (event) => egressEvents.push(event),
      context: () => CONTEXT,
    });
    harness = await startGateway({ servers: [stdioPlan()], launchStdio: launch, decide: decideWiki });
  });
  after(async () => {
    await harness.close();
    rmSync(workRoot, { recursive: true, force: true });
  });

  it('lists and calls the tools of a sandboxed stdio server', async () => {
    const client = await harness.client();
    const names = (await client.listTools()).tools.map((tool) => tool.name).sort();
    assert.deepEqual(names, [
      'wiki__change_echo',
      'wiki__count_files',
      'wiki__create_issue',
      'wiki__echo',
      'wiki__environment',
      'wiki__read_file',
      'wiki__slow_task',
    ]);
    assert.equal(
      textOf(await client.callTool({ name: 'wiki__echo', arguments: { text: 'from a sandbox' } })),
      'echo: from a sandbox',
    );
  });

  it('runs the server as the sandbox sees it: its own home, its spec env, and only a placeholder for the credential', async () => {
    const client = await harness.client();
    const env = async (name: string) =>
      textOf(await client.callTool({ name: 'wiki__environment', arguments: { name } }));
    assert.equal(await env('HOME'), '/home/agent');
    assert.equal(await env('PADDOCK_TEST_MARK'), 'from-spec-env');
    const token = await env('WIKI_TOKEN');
    assert.match(token, /^pdk_ph_wiki_token_[0-9a-f]{32}$/);
    assert.equal(await env('PADDOCK_CREDENTIAL_WIKI_TOKEN'), token);
    assert.match(
      await env('HTTPS_PROXY'),
      /^http:\/\/10\.\d+\.\d+\.\d+:\d+/,
      'its egress goes to its own gateway',
    );
    assert.equal(await env('PADDOCK_MCP_SOCKET'), '(unset)');
  });

  it('gives a server without hosts no network at all', async () => {
    const offline = await startGateway({
      servers: [stdioPlan({ egress: undefined, credential: undefined })],
      launchStdio: launch,
      decide: decideWiki,
    });
    try {
      const client = await offline.client();
      const env = async (name: string) =>
        textOf(await client.callTool({ name: 'wiki__environment', arguments: { name } }));
      assert.equal(await env('HTTPS_PROXY'), '(unset)');
      assert.equal(await env('WIKI_TOKEN'), '(unset)');
    } finally {
      await offline.close();
    }
  });

  it('stops the server and removes its private workspace when the agent session ends', async () => {
    const scoped = await startGateway({
      servers: [stdioPlan({ egress: undefined, credential: undefined })],
      launchStdio: launch,
      decide: decideWiki,
    });
    const before = new Set(readdirSync(workRoot));
    let mine: string[] = [];
    try {
      const client = await scoped.client();
      await client.listTools();
      mine = readdirSync(workRoot).filter((name) => !before.has(name));
      assert.equal(mine.length, 1, 'one private workspace for the session');
    } finally {
      await scoped.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(!readdirSync(workRoot).includes(mine[0] as string), 'removed with the session');
  });

  it('reports a server that cannot start as unavailable', async () => {
    const broken = await startGateway({
      servers: [
        stdioPlan({
          connection: { transport: 'stdio', command: ['/nonexistent/mcp-server'] },
          egress: undefined,
        }),
      ],
      launchStdio: launch,
      limits: { connectTimeoutMs: 5000 },
    });
    try {
      const client = await broken.client();
      const result = await client.callTool({ name: 'wiki__echo', arguments: { text: 'x' } });
      assert.equal(result.isError, true);
      assert.equal(
        (result.structuredContent as { paddock: { reason: string } }).paddock.reason,
        'server_unavailable',
      );
    } finally {
      await broken.close();
    }
  });
});
