// Issue 4: denied ranges after resolution, DNS rebinding, and IP-literal tricks, each as a
// connection that tries to get through. Only loopback addresses are ever dialled: the
// other denied ranges (metadata, RFC 1918, CGNAT, ...) are refused before any connect and
// are covered one by one in test/policy/egress-address.test.ts.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  connectTunnel,
  eventsOf,
  type GatewayFixture,
  rawExchange,
  scriptedResolver,
  RELAYS,
  startGateway,
  startUpstream,
  type Upstream,
} from './egress-fixtures.ts';

function listenOn(host: string, port: number): Promise<Server & { hits: number }> {
  const server = Object.assign(
    createServer((_request, response) => {
      server.hits += 1;
      response.end(`served by ${host}`);
    }),
    { hits: 0 },
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

// Once with each L4 relay (native splice(2), Node streams): tunnels behave the same.
for (const relay of RELAYS)
  describe(`addresses are checked after resolution, and the checked address is the one dialled: ${relay}`, () => {
    let upstream: Upstream;
    let fx: GatewayFixture;
    const dns = scriptedResolver();
    let inside: Server & { hits: number };
    let outside: Server & { hits: number };

    before(async () => {
      upstream = await startUpstream();
      // Two servers on one port: 127.0.0.2 plays the internal host a rebinding attack wants.
      inside = await listenOn('127.0.0.2', 0);
      const port = (inside.address() as AddressInfo).port;
      outside = await listenOn('127.0.0.1', port);
      fx = await startGateway({
        services: [
          { name: 'public', hosts: ['public.example.test'], ports: [upstream.port, port] },
          { name: 'rebind', hosts: ['rebind.example.test'], ports: [port], cidrs: ['127.0.0.1/32'] },
          { name: 'literal', hosts: ['127.0.0.1'], ports: [upstream.port], cidrs: ['127.0.0.1/32'] },
        ],
        resolver: dns.resolver,
        relay,
      });
    });

    after(async () => {
      await fx.close();
      await upstream.close();
      await Promise.all([inside, outside].map((server) => new Promise((resolve) => server.close(resolve))));
    });

    for (const address of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '0.0.0.0']) {
      it(`refuses a name that resolves to ${address} (no cidrs exception)`, async () => {
        dns.set('public.example.test', [address]);
        const before = upstream.requests.length;
        const tunnel = await connectTunnel(fx.ports.httpProxy, `public.example.test:${upstream.port}`);
        assert.equal(tunnel.status, 'HTTP/1.1 403 Forbidden');
        const body = tunnel.rest.toString();
        assert.match(body, /"reason":"address_denied"/);
        assert.ok(
          !body.includes(address.replace(/^::ffff:/, '')),
          'the resolved address must not be echoed to the agent',
        );
        tunnel.socket.destroy();
        const plain = await rawExchange(fx.ports.httpProxy, [
          `GET http://public.example.test:${upstream.port}/ HTTP/1.1\r\nHost: public.example.test:${upstream.port}\r\nConnection: close\r\n\r\n`,
        ]);
        assert.match(plain, /^HTTP\/1\.1 403 [\s\S]*"reason":"address_denied"/);
        assert.equal(upstream.requests.length, before);
      });
    }

    it('refuses when any one of several answers is private', async () => {
      dns.set('public.example.test', ['93.184.216.34', '127.0.0.1']);
      const tunnel = await connectTunnel(fx.ports.httpProxy, `public.example.test:${upstream.port}`);
      assert.equal(tunnel.status, 'HTTP/1.1 403 Forbidden');
      tunnel.socket.destroy();
    });

    it('refuses an answer that is not an IP address', async () => {
      dns.set('public.example.test', ['localhost']);
      const tunnel = await connectTunnel(fx.ports.httpProxy, `public.example.test:${upstream.port}`);
      assert.equal(tunnel.status, 'HTTP/1.1 403 Forbidden');
      tunnel.socket.destroy();
    });

    it('DNS rebinding: a second lookup answering 127.0.0.2 is never made; the checked 127.0.0.1 is dialled', async () => {
      const port = (inside.address() as AddressInfo).port;
      dns.set('rebind.example.test', (call) => (call === 1 ? ['127.0.0.1'] : ['127.0.0.2']));
      dns.calls.delete('rebind.example.test');
      const response = await rawExchange(fx.ports.httpProxy, [
        `GET http://rebind.example.test:${port}/ HTTP/1.1\r\nHost: rebind.example.test:${port}\r\nConnection: close\r\n\r\n`,
      ]);
      assert.match(response, /served by 127\.0\.0\.1$/);
      assert.equal(dns.calls.get('rebind.example.test'), 1);
      assert.equal(inside.hits, 0);
      // The next connection looks the name up again, gets 127.0.0.2, and is refused (not in cidrs).
      const second = await rawExchange(fx.ports.httpProxy, [
        `GET http://rebind.example.test:${port}/ HTTP/1.1\r\nHost: rebind.example.test:${port}\r\nConnection: close\r\n\r\n`,
      ]);
      assert.match(second, /^HTTP\/1\.1 403 [\s\S]*"reason":"address_denied"/);
      assert.equal(inside.hits, 0);
    });

    const literalForms: Array<[string, string]> = [
      ['2130706433', 'ip_literal_noncanonical'],
      ['0x7f.1', 'ip_literal_noncanonical'],
      ['0x7f000001', 'ip_literal_noncanonical'],
      ['017700000001', 'ip_literal_noncanonical'],
      ['0177.0.0.1', 'ip_literal_noncanonical'],
      ['127.1', 'ip_literal_noncanonical'],
      ['127.0.0.1.', 'ip_literal_noncanonical'],
      ['127.0.0.2', 'ip_literal_not_allowed'],
      ['[::ffff:127.0.0.1]', 'ip_literal_not_allowed'],
      ['[::1]', 'ip_literal_not_allowed'],
    ];
    for (const [host, reason] of literalForms) {
      it(`refuses the IP literal ${host} (${reason}) on CONNECT, absolute form and SOCKS`, async () => {
        const before = upstream.requests.length;
        const tunnel = await connectTunnel(fx.ports.httpProxy, `${host}:${upstream.port}`);
        assert.equal(tunnel.status, 'HTTP/1.1 403 Forbidden');
        assert.match(tunnel.rest.toString(), new RegExp(`"reason":"${reason}"`));
        tunnel.socket.destroy();
        const plain = await rawExchange(fx.ports.httpProxy, [
          `GET http://${host}:${upstream.port}/ HTTP/1.1\r\nHost: ${host}:${upstream.port}\r\nConnection: close\r\n\r\n`,
        ]);
        assert.match(plain, /^HTTP\/1\.1 403 /);
        const domain = Buffer.from(host, 'latin1');
        const socks = await rawExchange(fx.ports.socks, [
          Buffer.from([5, 1, 0]),
          Buffer.concat([
            Buffer.from([5, 1, 0, 3, domain.length]),
            domain,
            Buffer.from([upstream.port >> 8, upstream.port & 0xff]),
          ]),
        ]);
        assert.equal(socks.charCodeAt(3), 0x02, 'SOCKS reply: connection not allowed by ruleset');
        assert.equal(upstream.requests.length, before);
      });
    }

    it('allows an IP literal a service lists (with its cidrs), by CONNECT and by SOCKS address type 1', async () => {
      const plain = await rawExchange(fx.ports.httpProxy, [
        `GET http://127.0.0.1:${upstream.port}/literal HTTP/1.1\r\nHost: 127.0.0.1:${upstream.port}\r\nConnection: close\r\n\r\n`,
      ]);
      assert.match(plain, /^HTTP\/1\.1 200 OK[\s\S]*"url":"\/literal"/);
      const socks = await rawExchange(fx.ports.socks, [
        Buffer.from([5, 1, 0]),
        Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, upstream.port >> 8, upstream.port & 0xff]),
        `GET /socks-literal HTTP/1.1\r\nHost: 127.0.0.1:${upstream.port}\r\nConnection: close\r\n\r\n`,
      ]);
      assert.match(socks, /HTTP\/1\.1 200 OK[\s\S]*"url":"\/socks-literal"/);
    });

    it('SOCKS: only CONNECT, only no-auth', async () => {
      const bind = await rawExchange(fx.ports.socks, [
        Buffer.from([5, 1, 0]),
        Buffer.from([5, 2, 0, 1, 127, 0, 0, 1, 0, 80]),
      ]);
      assert.equal(bind.charCodeAt(3), 0x07, 'command not supported');
      const auth = await rawExchange(fx.ports.socks, [Buffer.from([5, 1, 2])]);
      assert.deepEqual([...Buffer.from(auth, 'latin1')], [5, 0xff]);
    });

    it('records each refusal as egress.denied with the reason and the bundle', () => {
      const denied = eventsOf(fx.events, 4001, 'egress.denied');
      const reasons = new Set(denied.map((event) => (event as { status_code?: string }).status_code));
      for (const reason of ['address_denied', 'ip_literal_noncanonical', 'ip_literal_not_allowed'])
        assert.ok(reasons.has(reason), reason);
    });
  });
