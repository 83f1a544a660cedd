// The L4 relay contract (src/supervisor/egress/tunnel-relay.ts), tried directly on both relays
// over real loopback sockets: what the outcome reports (counts, reasons) is invisible through
// the gateway, so here each case drives a relay itself and checks the outcome, and the stream
// relay's backpressure is measured. Every case runs once with each relay.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import {
  createTunnelRelay,
  defaultTunnelRelay,
  type RelayOutcome,
  type TunnelRelay,
} from '../../src/supervisor/egress/tunnel-relay.ts';
import { RELAYS, tunnelEnds } from './egress-fixtures.ts';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Reads to the end; rejects when the socket closes without one. */
function readAll(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('close', () => reject(new Error('closed without end')));
    socket.resume();
  });
}

/** Resolves when the gateway's side went away (its FIN or the socket's close), then closes ours. */
function hungUp(socket: Socket): Promise<void> {
  if (socket.destroyed || socket.readableEnded) {
    socket.destroy();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.once('end', done);
    socket.once('close', done);
    socket.resume();
  });
}

/** Settles with the outcome, or rejects after `ms`: a relay that loses an end must fail, not hang. */
function within(outcome: Promise<RelayOutcome>, ms: number): Promise<RelayOutcome> {
  return Promise.race([
    outcome,
    new Promise<RelayOutcome>((_, reject) =>
      setTimeout(() => reject(new Error(`no outcome within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

for (const kind of RELAYS) {
  describe(`tunnel relay contract: ${kind}`, { timeout: 30_000 }, () => {
    const relays: TunnelRelay[] = [];
    const make = () => {
      const relay = createTunnelRelay(kind, (error) => assert.fail(`the relay stopped: ${error.message}`));
      relays.push(relay);
      return relay;
    };
    const relay = make();
    after(async () => {
      for (const each of relays) await each.close();
    });

    it('sends bytes buffered before the handoff first, without counting them; counts what it wrote out', async () => {
      const ends = await tunnelEnds();
      ends.sandbox.write('early bytes, read by the gateway before the handoff|');
      // As peek() does: read, then put back.
      ends.gatewayClient.resume();
      const [early] = (await once(ends.gatewayClient, 'data')) as [Buffer];
      ends.gatewayClient.pause();
      ends.gatewayClient.unshift(early);
      const outcome = relay.relay(ends.gatewayClient, ends.gatewayUpstream, 60_000);
      const atServer = readAll(ends.server);
      const late = randomBytes(3 * 1024 * 1024 + 17);
      ends.sandbox.end(late);
      assert.equal(sha256(await atServer), sha256(Buffer.concat([early, late])), 'in order, nothing lost');
      const answer = randomBytes(2 * 1024 * 1024 + 5);
      const atSandbox = readAll(ends.sandbox);
      ends.server.end(answer);
      assert.equal(sha256(await atSandbox), sha256(answer));
      assert.deepEqual(await within(outcome, 5000), { up: late.length, down: answer.length, reason: 'eof' });
      assert.equal(relay.open, 0);
    });

    it('a FIN from upstream first ends that direction only; the tunnel ends when both are done', async () => {
      const ends = await tunnelEnds();
      const outcome = relay.relay(ends.gatewayClient, ends.gatewayUpstream, 60_000);
      const atSandbox = readAll(ends.sandbox);
      ends.server.end('closing my side first');
      assert.equal((await atSandbox).toString(), 'closing my side first');
      assert.equal(relay.open, 1, 'the other direction is still open');
      const atServer = readAll(ends.server);
      ends.sandbox.write('still ');
      await new Promise((resolve) => setTimeout(resolve, 50));
      ends.sandbox.end('talking');
      assert.equal((await atServer).toString(), 'still talking');
      assert.deepEqual(await within(outcome, 5000), { up: 13, down: 21, reason: 'eof' });
      await Promise.all([hungUp(ends.sandbox), hungUp(ends.server)]);
    });

    it('no byte either way for idleTimeoutMs closes both sides, reason idle; traffic one way keeps it open', async () => {
      const ends = await tunnelEnds();
      const started = Date.now();
      const outcome = relay.relay(ends.gatewayClient, ends.gatewayUpstream, 300);
      ends.sandbox.resume();
      // Upstream to sandbox only, every 100 ms for a second: never idle that long.
      let lastByteAt = 0;
      for (let i = 0; i < 10; i++) {
        ends.server.write('tick');
        lastByteAt = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(relay.open, 1, 'one-way traffic kept the tunnel open');
      const result = await within(outcome, 5000);
      // From the last byte, not from the end of the loop (that came 100 ms later).
      const quietMs = Date.now() - lastByteAt;
      assert.equal(result.reason, 'idle');
      assert.equal(result.down, 40);
      assert.equal(result.up, 0);
      assert.ok(Date.now() - started >= 1000);
      assert.ok(quietMs >= 250 && quietMs < 1600, `closed after ${quietMs} ms of quiet`);
      await Promise.all([hungUp(ends.sandbox), hungUp(ends.server)]);
    });

    it('a reset from the sandbox ends the tunnel, reason reset, and closes upstream', async () => {
      const ends = await tunnelEnds();
      const outcome = relay.relay(ends.gatewayClient, ends.gatewayUpstream, 60_000);
      const atServer = readAll(ends.server).catch(() => Buffer.alloc(0));
      ends.sandbox.write('before the reset');
      await new Promise((resolve) => setTimeout(resolve, 50));
      ends.sandbox.resetAndDestroy();
      const result = await within(outcome, 5000);
      assert.equal(result.reason, 'reset');
      assert.equal(result.up, 16);
      await hungUp(ends.server);
      await atServer;
    });

    it('close() ends every open tunnel, resolves their outcomes, and refuses new ones', async () => {
      const own = make();
      const first = await tunnelEnds();
      const second = await tunnelEnds();
      const outcomes = [
        own.relay(first.gatewayClient, first.gatewayUpstream, 60_000),
        own.relay(second.gatewayClient, second.gatewayUpstream, 60_000),
      ];
      second.server.write('hello');
      const [hello] = (await once(second.sandbox, 'data')) as [Buffer];
      assert.equal(hello.toString(), 'hello');
      assert.equal(own.open, 2);
      await own.close();
      const results = await Promise.all(outcomes.map((outcome) => within(outcome, 5000)));
      assert.deepEqual(
        results.map((result) => result.reason),
        ['closed_by_gateway', 'closed_by_gateway'],
      );
      assert.equal(results[1]!.down, 5);
      assert.equal(own.open, 0);
      await Promise.all([first, second].flatMap((ends) => [hungUp(ends.sandbox), hungUp(ends.server)]));
      const third = await tunnelEnds();
      await assert.rejects(own.relay(third.gatewayClient, third.gatewayUpstream, 60_000), {
        code: 'PDK_EGRESS_RELAY',
        message: 'the gateway is closing',
      });
      for (const socket of Object.values(third)) socket.destroy();
    });

    it('a socket closed before the handoff: nothing moves, closed_before_relay, the other closed too', async () => {
      const ends = await tunnelEnds();
      ends.gatewayClient.destroy();
      const result = await within(relay.relay(ends.gatewayClient, ends.gatewayUpstream, 60_000), 5000);
      assert.deepEqual(result, { up: 0, down: 0, reason: 'closed_before_relay' });
      await hungUp(ends.server);
      ends.sandbox.destroy();
    });
  });
}

describe('stream relay backpressure', { timeout: 30_000 }, () => {
  const relay = createTunnelRelay('stream', () => {});
  after(() => relay.close());

  it('a sandbox that reads slowly holds the gateway to a bounded buffer; the upstream waits instead', async (t) => {
    const ends = await tunnelEnds();
    const outcome = relay.relay(ends.gatewayClient, ends.gatewayUpstream, 60_000);
    // Per direction the gateway holds at most what its reading socket buffers (its high-water
    // mark plus one read of up to 64 KiB) and what its writing socket queues (the same):
    // 256 KiB with Node's 64 KiB default high-water mark.
    const bound =
      ends.gatewayUpstream.readableHighWaterMark + 65_536 + ends.gatewayClient.writableHighWaterMark + 65_536;
    const buffered = () =>
      ends.gatewayClient.readableLength +
      ends.gatewayClient.writableLength +
      ends.gatewayUpstream.readableLength +
      ends.gatewayUpstream.writableLength;
    let most = 0;
    const sampler = setInterval(() => {
      most = Math.max(most, buffered());
    }, 2);
    const payload = randomBytes(32 * 1024 * 1024);
    ends.server.end(payload); // as fast as the relay takes it
    ends.sandbox.pause();
    await new Promise((resolve) => setTimeout(resolve, 500));
    most = Math.max(most, buffered());
    // Nobody read for half a second: most of the 32 MiB still waits at the upstream's end.
    assert.ok(
      ends.server.writableLength > 24 * 1024 * 1024,
      `the upstream still holds ${ends.server.writableLength} bytes`,
    );
    // Then a slow reader: 64 KiB every 5 ms for a while, then all of it.
    const chunks: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      for (let chunk = ends.sandbox.read(65_536) as Buffer | null; chunk; chunk = null) chunks.push(chunk);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    chunks.push(await readAll(ends.sandbox));
    clearInterval(sampler);
    assert.equal(sha256(Buffer.concat(chunks)), sha256(payload), 'every byte arrived, in order');
    assert.ok(most <= bound, `the gateway buffered at most ${most} bytes (bound ${bound})`);
    t.diagnostic(`the gateway buffered at most ${most} bytes (bound ${bound})`);
    ends.sandbox.end();
    assert.deepEqual(await within(outcome, 5000), { up: 0, down: payload.length, reason: 'eof' });
  });
});

describe('native relay congestion control', { timeout: 30_000 }, () => {
  // Each case sets a namespace's default, so each runs in its own (root, as the suite runs).
  const sockets = (defaultControl: string): { sandboxSide: string; upstreamSide: string } =>
    JSON.parse(
      execFileSync(
        'unshare',
        [
          '--net',
          process.execPath,
          join(import.meta.dirname, 'fixtures', 'relay-congestion.ts'),
          defaultControl,
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );

  it('unpaces the sandbox side where the default is bbr; upstream keeps the default', () => {
    assert.deepEqual(sockets('bbr'), { sandboxSide: 'reno', upstreamSide: 'bbr' });
  });

  it('leaves every other default alone, on both sides', () => {
    assert.deepEqual(sockets('cubic'), { sandboxSide: 'cubic', upstreamSide: 'cubic' });
  });
});

describe('tunnel relay choice', () => {
  it('native on Linux, stream elsewhere (Windows, macOS)', () => {
    assert.equal(defaultTunnelRelay('linux'), 'native');
    assert.equal(defaultTunnelRelay('win32'), 'stream');
    assert.equal(defaultTunnelRelay('darwin'), 'stream');
  });

  it('an unknown relay is refused, not replaced by a default', () => {
    assert.throws(() => createTunnelRelay('splice' as never, () => {}), {
      code: 'PDK_CONFIG_INVALID',
      message: 'egress relay "splice": use "native" or "stream"',
    });
  });
});
