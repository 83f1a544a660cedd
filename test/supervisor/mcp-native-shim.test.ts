// The native MCP shim (native/paddock-mcp-shim.c) and the `paddock mcp-shim` fast path in
// bin/paddock.js: real processes relaying to a real unix socket. The startup figure is the time
// from spawning the shim to the first answer coming back through it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureMcpShim } from '../../src/supervisor/index.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'paddock.js');

/** A line server: answers each line with `ok:` and the line, like a gateway answering a request. */
function lineServer(path: string, options: { closeAtOnce?: boolean } = {}): Promise<Server> {
  const server = createServer((socket) => {
    if (options.closeAtOnce) {
      socket.destroy();
      return;
    }
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        socket.write(`ok:${pending.slice(0, end)}\n`);
        pending = pending.slice(end + 1);
      }
    });
    socket.on('end', () => socket.end());
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

interface Relay {
  readonly firstAnswerMs: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
}

/** Spawns `argv`, sends one line, ends stdin after the answer, and times the first answer. */
function relayOnce(
  argv: readonly string[],
  line = '{"jsonrpc":"2.0","id":1,"method":"ping"}',
): Promise<Relay> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let firstAnswerMs = Number.NaN;
    child.stdout.on('data', (chunk: Buffer) => {
      if (Number.isNaN(firstAnswerMs)) firstAnswerMs = performance.now() - started;
      stdout += chunk.toString();
      if (stdout.endsWith('\n')) child.stdin.end();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdin.on('error', () => {});
    child.stdin.write(`${line}\n`);
    child.on('close', (code) => resolve({ firstAnswerMs, stdout, stderr, code }));
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('MCP shim: native relay and the CLI fast path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pdk-mcp-shim-'));
  const socket = join(dir, 'mcp.sock');
  let server: Server;
  let shim: string;

  before(async () => {
    shim = ensureMcpShim();
    server = await lineServer(socket);
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('relays both ways and exits 0 once the agent ends stdin and the gateway finishes', async () => {
    const relay = await relayOnce([shim, '--socket', socket]);
    assert.equal(relay.stdout, 'ok:{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    assert.equal(relay.code, 0, relay.stderr);
  });

  it('answers its first message within 30 ms of being spawned (median of 20)', async (t) => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) times.push((await relayOnce([shim, '--socket', socket])).firstAnswerMs);
    const figure = median(times);
    t.diagnostic(`native shim: spawn to first answer median ${figure.toFixed(2)} ms`);
    assert.ok(figure < 30, `median ${figure} ms`);
  });

  it('fails closed with PDK_MCP_SHIM when no gateway answers, or when it closes first', async () => {
    const missing = await relayOnce([shim, '--socket', join(dir, 'absent.sock')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error PDK_MCP_SHIM: no MCP gateway answers at .*absent\.sock \(ENOENT\)/);
    const closing = join(dir, 'closing.sock');
    const abrupt = await lineServer(closing, { closeAtOnce: true });
    try {
      const closed = await relayOnce([shim, '--socket', closing]);
      assert.equal(closed.code, 1);
      assert.match(closed.stderr, /PDK_MCP_SHIM/);
    } finally {
      await new Promise<void>((resolve) => abrupt.close(() => resolve()));
    }
    const usage = await relayOnce([shim, '--bogus']);
    assert.equal(usage.code, 2);
  });

  it('`paddock mcp-shim` relays without loading the CLI (median of 5)', async (t) => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const relay = await relayOnce([process.execPath, BIN, 'mcp-shim', '--socket', socket]);
      assert.equal(relay.stdout, 'ok:{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
      assert.equal(relay.code, 0, relay.stderr);
      times.push(relay.firstAnswerMs);
    }
    t.diagnostic(`paddock mcp-shim (Node.js): spawn to first answer median ${median(times).toFixed(1)} ms`);
    assert.ok(median(times) < 1000, `median ${median(times)} ms`);
  });
});
