// `paddock run`'s MCP gateway (runStandalone with mcpServers), end to end: in a REAL sandbox the
// command is the MCP server Claude Code's mounted managed-mcp.json names (the native shim), run
// exactly as the harness would run it; a real MCP SDK client speaks over the sandboxed process's
// stdio, through the shim and the mounted socket, to the gateway and a real SDK server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { OcsfEvent } from '../../src/audit/index.ts';
import { loadRepository, type ResolvedBlueprint, resolveBlueprint } from '../../src/config/index.ts';
import { mcpServerPlans, runStandalone } from '../../src/supervisor/index.ts';
import { StreamTransport } from '../../src/supervisor/mcp/stream-transport.ts';
import { EXAMPLES } from '../policy/pdp-fixtures.ts';
import { makeWorkspace } from '../support/sandbox-harness.ts';
import { makeSecretStore } from './egress-fixtures.ts';
import { type HttpTestServer, startHttpTestServer } from './fixtures/mcp-test-server.ts';

const MANAGED_MCP = '/etc/claude-code/managed-mcp.json';

/** coding-agent, with its github MCP server allowed `echo` and `count_files` only (the test server's tools). */
function blueprintAllowing(resolved: ResolvedBlueprint): ResolvedBlueprint {
  const { blueprint } = resolved;
  return {
    ...resolved,
    blueprint: {
      ...blueprint,
      spec: {
        ...blueprint.spec,
        tools: { ...blueprint.spec.tools, mcp: [{ server: 'github', allow: ['echo', 'count_files'] }] },
      },
    },
  };
}

describe('paddock run: the MCP gateway behind the shim in a real sandbox', () => {
  const workspace = makeWorkspace('pdk-standalone-mcp-');
  const events: OcsfEvent[] = [];
  let upstream: HttpTestServer;
  let secrets: Awaited<ReturnType<typeof makeSecretStore>>;
  let stderr = '';
  let exitCode = -1;
  let listed: string[] = [];
  let echo: unknown;
  let forbidden: { isError?: boolean; text: string } | undefined;

  before(async () => {
    upstream = await startHttpTestServer();
    // The github service is credentialed: the gateway injects the token into its requests.
    secrets = await makeSecretStore({ 'github-token': 'test-github-token' });
    const loaded = await loadRepository(EXAMPLES);
    const resolved = blueprintAllowing(resolveBlueprint(loaded.state, 'coding-agent'));
    // The example github service, reached at the local SDK server instead of GitHub.
    const servers = mcpServerPlans(resolved.blueprint, (name) => {
      const service = loaded.state.services.get(name)?.value;
      return (
        service && { ...service, spec: { ...service.spec, mcp: { transport: 'http', url: upstream.url } } }
      );
    });
    // What the harness does: read its managed MCP settings and run the one server they name.
    const script = [
      `cat ${MANAGED_MCP} >&2`,
      `{ echo x >> ${MANAGED_MCP}; } 2>/dev/null && echo WROTE-SETTINGS >&2`,
      '{ echo x >> /etc/paddock-mcp-shim; } 2>/dev/null && echo WROTE-SHIM >&2',
      `exec "$(sed -n 's/.*"command": *"\\([^"]*\\)".*/\\1/p' ${MANAGED_MCP} | head -n 1)"`,
    ].join('\n');
    let session: Promise<void> = Promise.resolve();
    const result = await runStandalone({
      command: ['/bin/sh', '-c', script],
      workdir: workspace.dir,
      dataScope: { read: [], write: ['/workspace'], deny: [] },
      resolved,
      policies: loaded.state.policies,
      mcpServers: servers,
      secrets: secrets.store,
      hostEnv: {},
      stdio: ['pipe', 'pipe', 'pipe'],
      onStarted: (sandbox) => {
        const { stdin, stdout, stderr: errors } = sandbox.child;
        errors?.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        session = (async () => {
          const client = new Client({ name: 'sandboxed-agent', version: '1.0.0' });
          await client.connect(new StreamTransport(stdout!, stdin!, () => stdin!.end()));
          listed = (await client.listTools()).tools.map((tool) => tool.name).sort();
          echo = await client.callTool({ name: 'github__echo', arguments: { text: 'hi from the sandbox' } });
          const refused = await client.callTool({ name: 'github__drop_database', arguments: {} });
          const first = (refused.content as { type: string; text?: string }[])[0];
          forbidden = { isError: refused.isError as boolean | undefined, text: first?.text ?? '' };
          await client.close();
        })();
      },
      audit: async (event) => {
        events.push(event);
      },
    });
    await session;
    exitCode = result.exitCode;
  });

  after(async () => {
    workspace.remove();
    secrets.remove();
    await upstream.close();
  });

  it('mounts the managed MCP settings read-only, naming the native shim as the one server', () => {
    assert.equal(exitCode, 0, stderr);
    const settings = JSON.parse(stderr.slice(0, stderr.lastIndexOf('}') + 1)) as {
      mcpServers: Record<string, { command: string; args: string[] }>;
    };
    assert.deepEqual(Object.keys(settings.mcpServers), ['paddock']);
    assert.equal(settings.mcpServers['paddock']?.command, '/etc/paddock-mcp-shim');
    assert.doesNotMatch(stderr, /WROTE-SETTINGS|WROTE-SHIM/);
  });

  it('lists only the tools the blueprint allows', () => {
    assert.deepEqual(listed, ['github__count_files', 'github__echo']);
  });

  it('forwards an allowed call and refuses one the blueprint does not allow', () => {
    const content = (echo as { content: { text: string }[] }).content;
    assert.equal(content[0]?.text, 'echo: hi from the sandbox');
    assert.equal(forbidden?.isError, true);
    assert.match(forbidden?.text ?? '', /drop_database/);
  });

  it('injects the service credential upstream; the sandbox never held it', () => {
    assert.ok(upstream.requests.some((headers) => headers.authorization === 'Bearer test-github-token'));
  });

  it('audits each call as API Activity in the run audit', () => {
    const calls = events.filter((event) => event.class_uid === 6003);
    const codes = calls.map((event) => event.metadata.event_code);
    assert.ok(codes.includes('mcp.allowed'), codes.join(','));
    assert.ok(codes.includes('mcp.denied'), codes.join(','));
  });
});
