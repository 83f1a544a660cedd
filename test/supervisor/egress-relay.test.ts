// Issue 4: the L4 data path. Tunnels to services the gateway does not inspect are handed to
// the relay: the native one (splice(2) in its own process) or the stream one (Node streams,
// for hosts without splice(2)); every case runs with each. Each test tries to lose, reorder or
// leak what the relay carries, or to keep a tunnel alive past what should end it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  closedWithin,
  connectTunnel,
  eventsOf,
  type GatewayFixture,
  RELAYS,
  startGateway,
} from './egress-fixtures.ts';

// Not an HTTP method and not a TLS record: the gateway relays it as an opaque protocol.
const GREETING = Buffer.from('PADDOCK-RELAY-TEST\n');

/** Reads a socket to its end; rejects when it closes without one (a reset). */
function readAll(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('close', () => reject(new Error(`closed without end after ${chunks.length} chunks`)));
    socket.resume();
  });
}

/** The first chunk the socket receives; rejects if it closes first. */
function firstData(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    socket.once('data', resolve);
    socket.once('close', () => reject(new Error('closed before any data')));
    socket.resume();
  });
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The relay processes this test process started. */
function relayPids(): number[] {
  try {
    const out = execFileSync('pgrep', ['-P', String(process.pid), '-x', 'paddock-relay'], {
      encoding: 'utf8',
    });
    return out.split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

interface RawUpstream {
  readonly port: number;
  /** What each connection received, in order, once it ended. */
  readonly received: Buffer[];
  close(): Promise<void>;
}

/**
 * A TCP server with `behaviour` per connection; by default it reads to the client's FIN, then
 * answers with the SHA-256 of what it got and 4 MiB of random bytes, then ends.
 */
async function startRawUpstream(behaviour?: (socket: Socket) => void): Promise<RawUpstream> {
  const received: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (behaviour) return behaviour(socket);
    void readAll(socket).then((bytes) => {
      received.push(bytes);
      socket.write(`${sha256(bytes)}\n`);
      socket.end(randomBytes(4 * 1024 * 1024));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// Every test is bounded: a relay that loses a FIN must fail the test, not hang the suite.
for (const relay of RELAYS)
  describe(`egress relay (the L4 data path): ${relay}`, { timeout: 30_000 }, () => {
    let upstream: RawUpstream;
    let banner: RawUpstream;
    let fx: GatewayFixture;

    before(async () => {
      upstream = await startRawUpstream();
      // Speaks first, and closes its side when the client closes its own.
      banner = await startRawUpstream((socket) => {
        socket.write('220 server speaks first\r\n');
        socket.on('end', () => socket.end());
        socket.resume();
      });
      fx = await startGateway({
        services: [
          {
            name: 'opaque',
            hosts: ['opaque.example.test'],
            ports: [upstream.port, banner.port],
            cidrs: ['127.0.0.0/8'],
          },
        ],
        names: { 'opaque.example.test': ['127.0.0.1'] },
        limits: { maxConnections: 3, clientHelloTimeoutMs: 100 },
        relay,
      });
    });

    after(async () => {
      await fx.close();
      await upstream.close();
      await banner.close();
    });

    it('carries 8 MiB up and 4 MiB down intact, and a half-close one way leaves the other open', async () => {
      const { socket, status } = await connectTunnel(
        fx.ports.httpProxy,
        `opaque.example.test:${upstream.port}`,
      );
      assert.match(status, /^HTTP\/1\.1 200/);
      const payload = Buffer.concat([GREETING, randomBytes(8 * 1024 * 1024)]);
      const answer = readAll(socket);
      socket.end(payload); // FIN after the payload: the upstream answers only after seeing it
      const bytes = await answer;
      const newline = bytes.indexOf('\n');
      assert.equal(
        bytes.toString('latin1', 0, newline),
        sha256(payload),
        'the upstream got every byte, in order',
      );
      assert.equal(bytes.length - newline - 1, 4 * 1024 * 1024, 'the whole answer came back after our FIN');
    });

    it('sends bytes pipelined behind the CONNECT request first', async () => {
      const socket = connect({ host: '127.0.0.1', port: fx.ports.httpProxy });
      const authority = `opaque.example.test:${upstream.port}`;
      const early = Buffer.concat([GREETING, Buffer.from('sent in the same write as CONNECT')]);
      socket.end(
        Buffer.concat([Buffer.from(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`), early]),
      );
      const bytes = await readAll(socket);
      assert.match(bytes.toString('latin1'), /^HTTP\/1\.1 200[^\r]*\r\n/);
      assert.ok(
        bytes.includes(Buffer.from(`${sha256(early)}\n`)),
        'the upstream received exactly the early bytes',
      );
    });

    it('passes on what a server says before the client speaks', async () => {
      const { socket } = await connectTunnel(fx.ports.httpProxy, `opaque.example.test:${banner.port}`);
      const chunk = await firstData(socket);
      assert.equal(chunk.toString(), '220 server speaks first\r\n');
      socket.destroy();
    });

    it('counts the relayed bytes in the egress.closed event', async () => {
      const before = eventsOf(fx.events, 4001, 'egress.closed').length;
      const { socket } = await connectTunnel(fx.ports.httpProxy, `opaque.example.test:${upstream.port}`);
      const payload = Buffer.concat([GREETING, randomBytes(1024 * 1024)]);
      const answer = readAll(socket);
      socket.end(payload);
      await answer;
      await closedWithin(socket, 2000);
      // Other tests' tunnels may end meanwhile: ours is the one that carried the payload.
      const traffic = () =>
        eventsOf(fx.events, 4001, 'egress.closed')
          .slice(before)
          .map((event) => event['traffic'] as { bytes_in: number; bytes_out: number })
          .find((counts) => counts.bytes_out > payload.length);
      const deadline = Date.now() + 2000;
      while (!traffic() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const counts = traffic();
      assert.ok(counts, 'an egress.closed event counts the relayed payload');
      // Out: the CONNECT request and the payload. In: the 200, the digest line and 4 MiB.
      assert.ok(counts.bytes_out < payload.length + 200, `bytes_out ${counts.bytes_out}`);
      assert.ok(counts.bytes_in > 4 * 1024 * 1024 + 65, `bytes_in ${counts.bytes_in}`);
      assert.ok(counts.bytes_in < 4 * 1024 * 1024 + 300, `bytes_in ${counts.bytes_in}`);
    });

    it('a relayed tunnel counts against maxConnections until it ends', async () => {
      const open = await Promise.all(
        [1, 2, 3].map(() => connectTunnel(fx.ports.httpProxy, `opaque.example.test:${banner.port}`)),
      );
      for (const { socket } of open) await firstData(socket); // relayed: the banner came through
      const refused = await connectTunnel(fx.ports.httpProxy, `opaque.example.test:${banner.port}`).catch(
        (error: Error) => error,
      );
      assert.ok(!(refused instanceof Error), 'the gateway answers with an error status, not a reset');
      assert.match(refused.status, /^HTTP\/1\.1 429/);
      refused.socket.destroy();
      open[0]!.socket.destroy();
      // The relay sees the close, reports it, and the slot frees.
      const deadline = Date.now() + 3000;
      for (;;) {
        const next = await connectTunnel(fx.ports.httpProxy, `opaque.example.test:${banner.port}`);
        if (next.status.startsWith('HTTP/1.1 200')) {
          next.socket.destroy();
          break;
        }
        next.socket.destroy();
        assert.ok(Date.now() < deadline, 'the slot of an ended tunnel was never freed');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (const { socket } of open.slice(1)) socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 200));
    });

    it('a FIN from upstream first ends that direction only: the client still sends, then closes', async () => {
      const got: Promise<Buffer>[] = [];
      const early = await startRawUpstream((socket) => {
        socket.end('bye from upstream\n'); // FIN first, before the client said anything
        got.push(readAll(socket));
      });
      const other = await startGateway({
        services: [
          { name: 'opaque', hosts: ['opaque.example.test'], ports: [early.port], cidrs: ['127.0.0.0/8'] },
        ],
        names: { 'opaque.example.test': ['127.0.0.1'] },
        limits: { clientHelloTimeoutMs: 50 },
        relay,
      });
      try {
        const { socket, rest } = await connectTunnel(
          other.ports.httpProxy,
          `opaque.example.test:${early.port}`,
        );
        socket.allowHalfOpen = true; // the test's own client must not answer the FIN with its own
        const heard = Buffer.concat([rest, await readAll(socket)]);
        assert.equal(heard.toString(), 'bye from upstream\n');
        const payload = Buffer.concat([GREETING, randomBytes(2 * 1024 * 1024)]);
        socket.end(payload);
        assert.equal(
          await closedWithin(socket, 5000),
          'closed',
          'the tunnel ended once both sides were done',
        );
        assert.equal(got.length, 1);
        assert.equal(sha256(await got[0]!), sha256(payload), 'every byte sent after the FIN arrived');
      } finally {
        await other.close();
        await early.close();
      }
    });

    it('closing the gateway ends the tunnels the relay carries', async () => {
      const other = await startGateway({
        services: [
          { name: 'opaque', hosts: ['opaque.example.test'], ports: [banner.port], cidrs: ['127.0.0.0/8'] },
        ],
        names: { 'opaque.example.test': ['127.0.0.1'] },
        limits: { clientHelloTimeoutMs: 50 },
        relay,
      });
      const before = new Set(relayPids());
      const { socket } = await connectTunnel(other.ports.httpProxy, `opaque.example.test:${banner.port}`);
      await firstData(socket);
      const mine = relayPids().filter((pid) => !before.has(pid));
      // The native relay is a process of its own; the stream relay lives in the gateway.
      assert.equal(mine.length, relay === 'native' ? 1 : 0);
      await other.close();
      assert.equal(await closedWithin(socket, 2000), 'closed');
      const deadline = Date.now() + 2000;
      while (mine.some((pid) => relayPids().includes(pid)) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(!mine.some((pid) => relayPids().includes(pid)), 'the relay exited');
    });

    // The native relay's own process: started on demand, dropped to nobody, replaced when it dies.
    if (relay === 'native') {
      it('a relay that dies takes its tunnels with it, is reported, and the next tunnel gets a new one', async () => {
        const { socket } = await connectTunnel(fx.ports.httpProxy, `opaque.example.test:${banner.port}`);
        await firstData(socket);
        const [pid] = relayPids();
        assert.ok(pid, 'a relay process runs');
        if (process.getuid?.() === 0) {
          const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
          assert.deepEqual(
            uids?.slice(1),
            ['65534', '65534', '65534'],
            'started by root, the relay runs as nobody',
          );
        }
        process.kill(pid, 'SIGKILL');
        assert.equal(await closedWithin(socket, 2000), 'closed', 'the tunnel ended with the relay');
        const deadline = Date.now() + 2000;
        while (!fx.logs.some((line) => line.includes('the egress relay stopped')) && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 20));
        assert.ok(fx.logs.some((line) => line.includes('the egress relay stopped (SIGKILL)')));
        const again = await connectTunnel(fx.ports.httpProxy, `opaque.example.test:${banner.port}`);
        const chunk = await firstData(again.socket);
        assert.equal(chunk.toString(), '220 server speaks first\r\n');
        assert.notDeepEqual(relayPids(), [pid]);
        again.socket.destroy();
      });
    }
  });
