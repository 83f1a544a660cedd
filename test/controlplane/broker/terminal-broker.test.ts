import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { Terminal, TerminalTarget } from '../../../src/controlplane/broker/terminal-target.ts';
import { type BrokerHarness, principal, startBrokerHarness } from './support/broker-server.ts';
import { barePtyTarget, unavailableTarget } from './support/targets.ts';
import { connectTerminal } from './support/terminal-client.ts';

// Issue 6 (control plane), access broker: the relay's boundaries, each attacked. Terminals here
// are real processes on real ptys (bare `cat`, `yes`), since these tests are about the relay.

const alice = principal('alice@example.com', 'sess-alice-1');
const aliceOther = principal('alice@example.com', 'sess-alice-2');
const bob = principal('bob@example.com', 'sess-bob');

/** Resolves once `check()` holds; fails after timeoutMs. */
async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) assert.fail(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Wraps a target so a test can see what reached each terminal and whether it was paused. */
function observed(inner: TerminalTarget) {
  const stats = { written: 0, emitted: 0, pauses: 0, resumes: 0 };
  const target: TerminalTarget = {
    workspaceId: inner.workspaceId,
    async open(options) {
      const terminal = await inner.open(options);
      const wrapped: Terminal = {
        write: (data) => {
          stats.written += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
          terminal.write(data);
        },
        resize: (size) => terminal.resize(size),
        close: () => terminal.close(),
        onData: (listener) =>
          terminal.onData((data) => {
            stats.emitted += data.byteLength;
            listener(data);
          }),
        onExit: (listener) => terminal.onExit(listener),
        pause: () => {
          stats.pauses++;
          terminal.pause?.();
        },
        resume: () => {
          stats.resumes++;
          terminal.resume?.();
        },
      };
      return wrapped;
    },
  };
  return { target, stats };
}

describe('terminal broker', () => {
  let harness: BrokerHarness;
  const flood = observed(barePtyTarget('ws-flood', '/usr/bin/yes', ['0123456789abcdef0123456789abcdef']));
  const sink = observed(barePtyTarget('ws-sink', '/bin/sleep', ['60']));
  before(async () => {
    harness = await startBrokerHarness(
      {
        'ws-alice': { owner: alice.userId, target: barePtyTarget('ws-alice', '/bin/cat') },
        'ws-bob': { owner: bob.userId, target: barePtyTarget('ws-bob', '/bin/cat') },
        'ws-down': { owner: alice.userId, target: unavailableTarget('ws-down') },
        'ws-flood': { owner: alice.userId, target: flood.target },
        'ws-sink': { owner: alice.userId, target: sink.target },
      },
      { allowedOrigins: ['https://console.example.com'], inputBytesPerSecond: 64 * 1024 },
    );
    harness.tokens.set('tok-alice', alice);
    harness.tokens.set('tok-alice-2', aliceOther);
    harness.tokens.set('tok-bob', bob);
  });
  after(() => harness.close());

  it('relays keystrokes and output both ways (cat echoes)', async () => {
    const client = await connectTerminal(harness.url, 'ws-alice', { token: 'tok-alice' });
    client.type('hello broker\r');
    await client.waitFor('hello broker\r\nhello broker');
    client.ws.close();
    await client.closed;
  });

  describe('Origin (defence in depth behind the server)', () => {
    it('refuses a foreign Origin with 403 and audits the denial', async () => {
      const before = harness.events.length;
      await assert.rejects(
        connectTerminal(harness.url, 'ws-alice', { token: 'tok-alice', origin: 'https://evil.example' }),
        { status: 403 },
      );
      const denial = harness.events.slice(before).find((e) => e.metadata.event_code === 'terminal.denied');
      assert.equal(denial?.['status_code'], 'origin_not_allowed');
      assert.match(String(denial?.['status_detail']), /https:\/\/evil\.example is not allowed/);
    });
    it('refuses look-alike and opaque origins', async () => {
      for (const origin of [
        'null',
        'https://console.example.com.evil.example',
        'http://console.example.com',
        'https://console.example.com:8443',
        'file://',
      ]) {
        await assert.rejects(
          connectTerminal(harness.url, 'ws-alice', { token: 'tok-alice', origin }),
          { status: 403 },
          origin,
        );
      }
    });
    it('accepts the allowed origin (any case, default port) and clients that send none', async () => {
      for (const origin of ['https://console.example.com', 'https://CONSOLE.example.com:443', undefined]) {
        const client = await connectTerminal(harness.url, 'ws-alice', { token: 'tok-alice', origin });
        client.ws.close();
        await client.closed;
      }
    });
  });

  describe('request and message validation', () => {
    it('refuses sizes out of bounds or not plain integers with 400', async () => {
      for (const query of [
        'cols=0&rows=24',
        'cols=80&rows=0',
        'cols=1001&rows=24',
        'cols=80&rows=501',
        'cols=1e2&rows=24',
        'cols=80',
        'cols=80&rows=24&mode=exec',
        'cols=-1&rows=5',
      ]) {
        await assert.rejects(
          connectTerminal(harness.url, 'ws-alice', { token: 'tok-alice', query }),
          { status: 400 },
          query,
        );
      }
    });
    for (const [name, message] of [
      ['an unknown type', '{"type":"exec","cmd":"id"}'],
      ['an oversized resize', '{"type":"resize","cols":100000,"rows":10}'],
      ['a fractional resize', '{"type":"resize","cols":80.5,"rows":10}'],
      ['extra fields', '{"type":"resize","cols":80,"rows":10,"x":1}'],
      ['not JSON', 'resize 80 24'],
      ['an array', '[1,2]'],
      ['a long message', `{"type":"resize","cols":80,"rows":10,"pad":"${'x'.repeat(1000)}"}`],
    ] as const) {
      it(`closes with 1008 on ${name}`, async () => {
        const client = await connectTerminal(harness.url, 'ws-alice', { token: 'tok-alice' });
        client.ws.send(message);
        const closed = await client.closed;
        assert.equal(closed.code, 1008);
        assert.deepEqual(client.controls.at(-1), {
          type: 'closed',
          reason: 'unknown or malformed control message',
        });
      });
    }
    it('closes with 1009 on a frame above maxFrameBytes', async () => {
      const client = await connectTerminal(harness.url, 'ws-alice', { token: 'tok-alice' });
      client.ws.send(Buffer.alloc(65_537, 0x61), { binary: true });
      assert.equal((await client.closed).code, 1009);
    });
  });

  describe('workspace that cannot open a terminal', () => {
    it('closes with 4004 and the channel reason, and audits the denial', async () => {
      const client = await connectTerminal(harness.url, 'ws-down', { token: 'tok-alice' });
      const closed = await client.closed;
      assert.equal(closed.code, 4004);
      assert.deepEqual(client.controls, [{ type: 'closed', reason: 'the workspace is not connected' }]);
      const ours = () => harness.events.filter((e) => (e['device'] as { uid: string }).uid === 'ws-down');
      await eventually(() => ours().length > 0, 'the denial is audited');
      assert.deepEqual(
        ours().map((e) => [e.metadata.event_code, e['status_code']]),
        [['terminal.denied', 'terminal_unavailable']],
      );
    });
  });

  describe('session binding', () => {
    it('revoking a session closes its live terminals within 5 s, and only its own', async () => {
      const first = await connectTerminal(harness.url, 'ws-alice', { token: 'tok-alice' });
      const second = await connectTerminal(harness.url, 'ws-alice', { token: 'tok-alice' });
      const otherSession = await connectTerminal(harness.url, 'ws-alice', { token: 'tok-alice-2' });
      const bobs = await connectTerminal(harness.url, 'ws-bob', { token: 'tok-bob' });
      await eventually(() => harness.broker.listLiveTerminals().length === 4, 'four live terminals');
      const live = harness.broker.listLiveTerminals();
      assert.deepEqual(live.map((t) => [t.sessionId, t.userId, t.workspaceId]).sort(), [
        ['sess-alice-1', alice.userId, 'ws-alice'],
        ['sess-alice-1', alice.userId, 'ws-alice'],
        ['sess-alice-2', alice.userId, 'ws-alice'],
        ['sess-bob', bob.userId, 'ws-bob'],
      ]);
      assert.ok(live.every((t) => typeof t.attachId === 'string' && t.startedAt > 0));

      const revokedAt = performance.now();
      const count = await harness.broker.closeSessionTerminals(
        'sess-alice-1',
        'session revoked by an administrator',
      );
      assert.equal(count, 2);
      for (const client of [first, second]) {
        const closed = await client.closed;
        assert.equal(closed.code, 4401);
        assert.equal(closed.reason, 'session revoked by an administrator');
        assert.ok(closed.at - revokedAt < 5000, `closed after ${closed.at - revokedAt} ms`);
        assert.deepEqual(client.controls.at(-1), {
          type: 'closed',
          reason: 'session revoked by an administrator',
        });
      }
      const revoked = harness.events.filter((e) => e.metadata.event_code === 'terminal.revoked');
      assert.equal(revoked.length, 2);
      assert.deepEqual(
        harness.broker
          .listLiveTerminals()
          .map((t) => t.sessionId)
          .sort(),
        ['sess-alice-2', 'sess-bob'],
      );
      // The other terminals still work.
      otherSession.type('still here\r');
      await otherSession.waitFor('still here\r\nstill here');
      bobs.type('bob too\r');
      await bobs.waitFor('bob too\r\nbob too');
      otherSession.ws.close();
      bobs.ws.close();
      await Promise.all([otherSession.closed, bobs.closed]);
    });
  });

  describe('backpressure', () => {
    it('pauses a flooding terminal while the client does not read, so memory stays bounded', async () => {
      const client = await connectTerminal(harness.url, 'ws-flood', { token: 'tok-alice' });
      // Stop reading at the TCP level: the broker's sends back up.
      (client.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const emittedAfterStall = flood.stats.emitted;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.ok(flood.stats.pauses >= 1, 'the terminal was paused');
      // Kernel socket buffers plus the high-water mark, not an unbounded stream.
      assert.ok(emittedAfterStall < 16 * 1024 * 1024, `emitted ${emittedAfterStall} bytes`);
      assert.ok(flood.stats.emitted - emittedAfterStall < 512 * 1024, 'no further output while stalled');
      (client.ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
      await eventually(() => flood.stats.resumes >= 1, 'the terminal resumed once the client read again');
      client.ws.close();
      await client.closed;
    });

    it('rate-limits a client that floods input', async () => {
      const client = await connectTerminal(harness.url, 'ws-sink', { token: 'tok-alice' });
      const started = performance.now();
      const chunk = Buffer.alloc(32 * 1024, 0x61);
      for (let i = 0; i < 64; i++) client.ws.send(chunk, { binary: true }); // 2 MiB at once
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const elapsed = (performance.now() - started) / 1000;
      // Bucket of 64 KiB refilled at 64 KiB/s, plus at most one frame of overshoot.
      const bound = 64 * 1024 * (1 + elapsed) + 32 * 1024;
      assert.ok(
        sink.stats.written <= bound,
        `wrote ${sink.stats.written} bytes in ${elapsed.toFixed(2)} s (bound ${bound})`,
      );
      assert.ok(sink.stats.written > 0, 'input still flows at the permitted rate');
      client.ws.terminate(); // its close frame would wait behind the throttled input
      await client.closed;
    });
  });

  it('an SSH-mode stream is relayed but not recorded (it is encrypted end to end)', async () => {
    const before = harness.events.length;
    const client = await connectTerminal(harness.url, 'ws-alice', { token: 'tok-alice', query: 'mode=ssh' });
    client.type('SSH-2.0-probe\r');
    await client.waitFor('SSH-2.0-probe');
    client.ws.close();
    await client.closed;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const attachId = (e: (typeof harness.events)[number]) =>
      (e['unmapped'] as { paddock?: { attach_id?: string; mode?: string } } | undefined)?.paddock;
    const attached = harness.events.slice(before).find((e) => attachId(e)?.mode === 'ssh');
    assert.ok(attached, 'the SSH attach is audited');
    const ours = harness.events.filter((e) => attachId(e)?.attach_id === attachId(attached)?.attach_id);
    assert.deepEqual(
      ours.map((e) => e.metadata.event_code),
      ['terminal.attached'],
    );
  });

  it('a socket that is not the terminal route never reaches the broker', async () => {
    const ws = new WebSocket(`${harness.url}/api/workspaces/ws-bob/terminal?cols=80&rows=24`, {
      headers: { authorization: 'Bearer tok-alice' },
    });
    const status = await new Promise<number>((resolve) =>
      ws.once('unexpected-response', (_q, r) => resolve(r.statusCode ?? 0)),
    );
    assert.equal(status, 403, "alice cannot attach to bob's workspace");
  });
});

describe('terminal broker session checks', () => {
  let harness: BrokerHarness;
  const active = new Set(['sess-live']);
  before(async () => {
    harness = await startBrokerHarness(
      { 'ws-alice': { owner: alice.userId, target: barePtyTarget('ws-alice', '/bin/cat') } },
      { sessionActive: (id) => active.has(id), sessionCheckIntervalMs: 500 },
    );
    harness.tokens.set('tok', principal(alice.userId, 'sess-live'));
  });
  after(() => harness.close());

  it('closes the terminals of a session that expired without anyone announcing it, within 5 s', async () => {
    const client = await connectTerminal(harness.url, 'ws-alice', { token: 'tok' });
    await eventually(() => harness.broker.listLiveTerminals().length === 1, 'registered');
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(harness.broker.listLiveTerminals().length, 1, 'an active session keeps its terminal');
    const expiredAt = performance.now();
    active.delete('sess-live');
    const closed = await client.closed;
    assert.equal(closed.code, 4401);
    assert.equal(closed.reason, 'session expired');
    assert.ok(closed.at - expiredAt < 5000);
    await eventually(
      () =>
        harness.events.some(
          (e) => e.metadata.event_code === 'terminal.revoked' && e['status_code'] === 'session_expired',
        ),
      'terminal.revoked audited',
    );
  });
});

describe('terminal broker on a socket the server upgraded', () => {
  let harness: BrokerHarness;
  before(async () => {
    harness = await startBrokerHarness(
      { 'ws-alice': { owner: alice.userId, target: barePtyTarget('ws-alice', '/bin/cat') } },
      { serverUpgrades: true, allowedOrigins: ['https://console.example.com'] },
    );
    harness.tokens.set('tok', alice);
  });
  after(() => harness.close());

  it('relays, and still enforces Origin, query and frame size itself', async () => {
    const client = await connectTerminal(harness.url, 'ws-alice', {
      token: 'tok',
      origin: 'https://console.example.com',
    });
    client.type('upgraded elsewhere\r');
    await client.waitFor('upgraded elsewhere\r\nupgraded elsewhere');
    client.ws.send(Buffer.alloc(100_000, 0x61), { binary: true });
    assert.equal((await client.closed).code, 1009);

    const foreign = await connectTerminal(harness.url, 'ws-alice', {
      token: 'tok',
      origin: 'https://evil.example',
    });
    assert.equal((await foreign.closed).code, 1008);
    assert.deepEqual(foreign.controls, [
      { type: 'closed', reason: 'Origin https://evil.example is not allowed' },
    ]);
    const badSize = await connectTerminal(harness.url, 'ws-alice', {
      token: 'tok',
      query: 'cols=5000&rows=10',
    });
    assert.equal((await badSize.closed).code, 1008);
    await eventually(
      () => harness.events.filter((e) => e.metadata.event_code === 'terminal.denied').length === 2,
      'both refusals audited',
    );
  });
});

describe('terminal broker with a terminal that cannot pause', () => {
  let harness: BrokerHarness;
  before(async () => {
    const inner = barePtyTarget('ws-flood', '/usr/bin/yes', ['0123456789abcdef0123456789abcdef']);
    // The same flood, through a terminal that offers no pause(): the broker must cut it off.
    const unpausable: TerminalTarget = {
      workspaceId: 'ws-flood',
      async open(options) {
        const { pause: _pause, resume: _resume, ...rest } = await inner.open(options);
        return rest;
      },
    };
    harness = await startBrokerHarness(
      { 'ws-flood': { owner: alice.userId, target: unpausable } },
      { outputHighWaterBytes: 16_384, maxOutputBacklogBytes: 262_144 },
    );
    harness.tokens.set('tok', alice);
  });
  after(() => harness.close());

  it('closes with 1013 once the output backlog passes its bound', async () => {
    const client = await connectTerminal(harness.url, 'ws-flood', { token: 'tok' });
    const socket = (client.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    await eventually(
      () => harness.broker.listLiveTerminals().length === 0,
      'the broker ended the attach',
      10_000,
    );
    socket.resume();
    const closed = await client.closed;
    assert.equal(closed.code, 1013);
    assert.deepEqual(client.controls.at(-1), {
      type: 'closed',
      reason: 'output backlog exceeded: the client reads too slowly',
    });
  });
});
