// Issue 4: the gateway's limits, each tried: connections per sandbox, idle tunnels, slow
// request heads, and default deny with an empty policy.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { resolveLimits } from '../../src/supervisor/egress/limits.ts';
import {
  closedWithin,
  connectTunnel,
  eventsOf,
  type GatewayFixture,
  rawExchange,
  RELAYS,
  startGateway,
  startUpstream,
  type Upstream,
} from './egress-fixtures.ts';

function openIdle(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', () => {});
  });
}

// Once with each L4 relay (native splice(2), Node streams): tunnels behave the same.
for (const relay of RELAYS)
  describe(`egress limits: ${relay}`, () => {
    let upstream: Upstream;
    let fx: GatewayFixture;

    before(async () => {
      upstream = await startUpstream();
      fx = await startGateway({
        services: [
          { name: 'plain', hosts: ['plain.example.test'], ports: [upstream.port], cidrs: ['127.0.0.0/8'] },
        ],
        names: { 'plain.example.test': ['127.0.0.1'] },
        limits: { maxConnections: 4, idleTimeoutMs: 400, headersTimeoutMs: 300, clientHelloTimeoutMs: 100 },
        relay,
      });
    });

    after(async () => {
      await fx.close();
      await upstream.close();
    });

    it('refuses connections beyond maxConnections with 429 PDK_EGRESS_LIMIT, across listeners', async () => {
      const held = [
        await openIdle(fx.ports.httpProxy),
        await openIdle(fx.ports.socks),
        await openIdle(fx.ports.transparentHttp),
        await openIdle(fx.ports.httpProxy),
      ];
      await new Promise((resolve) => setTimeout(resolve, 50));
      const refused = await rawExchange(fx.ports.httpProxy, [
        `GET http://plain.example.test:${upstream.port}/ HTTP/1.1\r\nHost: plain.example.test:${upstream.port}\r\n\r\n`,
      ]);
      assert.match(
        refused,
        /^HTTP\/1\.1 429 Too Many Requests[\s\S]*X-Paddock-Error: PDK_EGRESS_LIMIT[\s\S]*"reason":"connection_limit"/,
      );
      assert.ok(
        eventsOf(fx.events, 4001, 'egress.denied').some(
          (event) => (event as { status_code?: string }).status_code === 'connection_limit',
        ),
      );
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const admitted = await rawExchange(fx.ports.httpProxy, [
        `GET http://plain.example.test:${upstream.port}/ HTTP/1.1\r\nHost: plain.example.test:${upstream.port}\r\nConnection: close\r\n\r\n`,
      ]);
      assert.match(admitted, /^HTTP\/1\.1 200 OK/);
    });

    it('closes an idle tunnel after idleTimeoutMs', async () => {
      const tunnel = await connectTunnel(fx.ports.httpProxy, `plain.example.test:${upstream.port}`);
      assert.equal(tunnel.status, 'HTTP/1.1 200 Connection established');
      const started = Date.now();
      assert.equal(await closedWithin(tunnel.socket, 3000), 'closed');
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 300 && elapsed < 2500, `closed after ${elapsed} ms`);
    });

    it('keeps a tunnel open while traffic flows', async () => {
      const tunnel = await connectTunnel(fx.ports.httpProxy, `plain.example.test:${upstream.port}`);
      let responses = 0;
      tunnel.socket.on('data', (data: Buffer) => {
        responses += (data.toString().match(/HTTP\/1\.1 200/g) ?? []).length;
      });
      tunnel.socket.resume();
      for (let i = 0; i < 6; i++) {
        tunnel.socket.write(`GET /tick/${i} HTTP/1.1\r\nHost: plain.example.test:${upstream.port}\r\n\r\n`);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      assert.equal(responses, 6);
      assert.equal(tunnel.socket.destroyed, false);
      tunnel.socket.destroy();
    });

    it('closes a connection whose request head does not finish within headersTimeoutMs (slow loris)', async () => {
      const socket = await openIdle(fx.ports.httpProxy);
      socket.write('GET http://plain.example.test/ HTTP/1.1\r\nHost: plain');
      const started = Date.now();
      const drip = setInterval(() => socket.writable && socket.write('a'), 50);
      assert.equal(await closedWithin(socket, 3000), 'closed');
      clearInterval(drip);
      assert.ok(Date.now() - started < 1500);
    });

    it('refuses limits outside their bounds', () => {
      assert.throws(
        () => resolveLimits({ maxHeaderBytes: 10 }),
        /maxHeaderBytes=10 is outside 1024\.\.1048576/,
      );
      assert.throws(() => resolveLimits({ maxConnections: 0 }), /maxConnections=0/);
    });
  });

describe('default deny', () => {
  let fx: GatewayFixture;
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream();
    fx = await startGateway({ services: [], names: { 'plain.example.test': ['127.0.0.1'] } });
  });

  after(async () => {
    await fx.close();
    await upstream.close();
  });

  it('an empty policy lets nothing through on any listener', async () => {
    const plain = await rawExchange(fx.ports.httpProxy, [
      `GET http://plain.example.test:${upstream.port}/ HTTP/1.1\r\nHost: plain.example.test:${upstream.port}\r\nConnection: close\r\n\r\n`,
    ]);
    assert.match(plain, /^HTTP\/1\.1 403 [\s\S]*"reason":"no_matching_service"/);
    const tunnel = await connectTunnel(fx.ports.httpProxy, `plain.example.test:${upstream.port}`);
    assert.equal(tunnel.status, 'HTTP/1.1 403 Forbidden');
    tunnel.socket.destroy();
    const transparent = await rawExchange(fx.ports.transparentHttp, [
      'GET / HTTP/1.1\r\nHost: plain.example.test\r\nConnection: close\r\n\r\n',
    ]);
    assert.match(transparent, /^HTTP\/1\.1 403 /);
    const socks = await rawExchange(fx.ports.socks, [
      Buffer.from([5, 1, 0]),
      Buffer.from([
        5,
        1,
        0,
        3,
        18,
        ...Buffer.from('plain.example.test'),
        upstream.port >> 8,
        upstream.port & 0xff,
      ]),
    ]);
    assert.equal(socks.charCodeAt(3), 0x02);
    assert.equal(upstream.requests.length, 0);
  });
});
