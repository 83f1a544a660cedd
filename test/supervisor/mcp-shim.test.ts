import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { prepareSandbox } from '../../src/supervisor/index.ts';
import { StreamTransport } from '../../src/supervisor/mcp/stream-transport.ts';
import { makeWorkspace } from '../support/sandbox-harness.ts';
import { type HttpTestServer, startHttpTestServer } from './fixtures/mcp-test-server.ts';
import { type GatewayHarness, httpPlan, startGateway, textOf } from './mcp-support.ts';

// `paddock mcp-shim` end to end, as a process: the SDK's own stdio client spawns it, it relays
// to the gateway's unix socket, and the gateway fronts a real MCP server. Then the same from
// inside a REAL sandbox, with the socket mounted read-only and handed to the sandbox's uid.

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PADDOCK = join(REPO, 'bin/paddock.js');

function runShim(
  args: readonly string[],
  input: string,
  uid?: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PADDOCK, 'mcp-shim', ...args], {
      uid,
      gid: uid,
      env: { ...process.env, PADDOCK_MCP_SOCKET: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('paddock mcp-shim', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pdk-mcp-shim-'));
  const socket = join(dir, 'mcp.sock');
  let upstream: HttpTestServer;
  let harness: GatewayHarness;

  before(async () => {
    chmodSync(dir, 0o755);
    upstream = await startHttpTestServer();
    harness = await startGateway({ servers: [httpPlan('github', upstream.url)] });
    await harness.gateway.serveSocket(socket);
  });
  after(async () => {
    await harness.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the SDK stdio client through the gateway', async () => {
    const client = new Client({ name: 'stdio-agent', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [PADDOCK, 'mcp-shim', '--socket', socket],
        stderr: 'pipe',
      }),
    );
    try {
      assert.equal(client.getServerVersion()?.name, 'paddock-mcp-gateway');
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      assert.ok(names.includes('github__echo') && !names.includes('github__drop_database'));
      assert.equal(
        textOf(await client.callTool({ name: 'github__echo', arguments: { text: 'via shim' } })),
        'echo: via shim',
      );
      const denied = await client.callTool({ name: 'github__read_file', arguments: { path: '/etc/passwd' } });
      assert.equal(denied.isError, true);
    } finally {
      await client.close();
    }
  });

  it('exits 0 when the agent closes its input, 1 with a fix when no gateway answers', async () => {
    const initialize = `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })}\n`;
    const served = await runShim(['--socket', socket], initialize);
    assert.equal(served.code, 0);
    const missing = await runShim(['--socket', join(dir, 'nothing.sock')], '');
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^error PDK_MCP_SHIM: no MCP gateway answers at .*nothing\.sock \(ENOENT\); run the shim inside a Paddock sandbox/,
    );
  });

  it('keeps the socket to root unless it is handed to the sandbox uid', async () => {
    const refused = await runShim(['--socket', socket], '', 4242);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /\(EACCES\)/);
  });

  it('works from inside a real sandbox, with the socket owned by the sandbox uid', async () => {
    // Outside /tmp, which the sandbox replaces with its own; inside the (gitignored) tmp/.
    mkdirSync(join(REPO, 'tmp'), { recursive: true });
    const socketDir = mkdtempSync(join(REPO, 'tmp', 'mcp-sock-'));
    chmodSync(socketDir, 0o755);
    const path = join(socketDir, 'mcp.sock');
    const workspace = makeWorkspace('pdk-mcp-shim-ws-');
    const cleanups: (() => Promise<void> | void)[] = [
      () => rmSync(socketDir, { recursive: true, force: true }),
      () => workspace.remove(),
    ];
    try {
      const prepared = prepareSandbox({
        command: [process.execPath, PADDOCK, 'mcp-shim', '--socket', path],
        workdir: workspace.dir,
        dataScope: { read: [REPO], write: [], deny: [] },
        hostEnv: {},
        stdio: ['pipe', 'pipe', 'pipe'],
        withNetwork: false,
      });
      cleanups.unshift(() => prepared.abandon());
      const endpoint = await harness.gateway.serveSocket(path, { uid: prepared.uid });
      cleanups.unshift(() => endpoint.close());
      const sandbox = prepared.launch();
      cleanups.unshift(async () => {
        sandbox.kill('SIGKILL');
        await sandbox.exited;
      });
      const client = new Client({ name: 'sandboxed-agent', version: '1.0.0' });
      cleanups.unshift(() => client.close());
      await client.connect(
        new StreamTransport(sandbox.child.stdout as Readable, sandbox.child.stdin as Writable),
      );
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      assert.ok(names.includes('github__echo'));
      assert.equal(
        textOf(await client.callTool({ name: 'github__echo', arguments: { text: 'sandboxed' } })),
        'echo: sandboxed',
      );
    } finally {
      for (const cleanup of cleanups) await cleanup();
    }
  });
});
