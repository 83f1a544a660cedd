// Issue 4: the CONNECT target, the Host header and the TLS server name must agree (no
// domain fronting), on every listener, with the ClientHello split across records and
// segments, and with Encrypted Client Hello refused.
import assert from 'node:assert/strict';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { buildClientHello, fragmentingStream, refragment } from './egress-client-hello.ts';
import {
  closedWithin,
  connectTunnel,
  eventsOf,
  type GatewayFixture,
  pemFile,
  rawExchange,
  runClient,
  startGateway,
  startUpstream,
  type Upstream,
  UPSTREAM_CA,
} from './egress-fixtures.ts';

// Port 80 and 443 upstreams (the transparent listeners dial the original port) on a loopback
// address of their own; the tests run as root, as the sandbox needs anyway.
const ORIGIN = '127.0.0.3';

describe('CONNECT target, Host and SNI must agree', () => {
  let https: Upstream;
  let origin80: Upstream;
  let origin443: Upstream;
  let fx: GatewayFixture;
  let caFile: string;

  before(async () => {
    https = await startUpstream({ tls: true, host: ORIGIN });
    origin80 = await startUpstream({ host: ORIGIN, port: 80 });
    origin443 = await startUpstream({ host: ORIGIN, port: 443, tls: true });
    const loopback = ['127.0.0.0/8'];
    fx = await startGateway({
      services: [
        { name: 'tunnel', hosts: ['tunnel.example.test'], ports: [https.port, 443], cidrs: loopback },
        { name: 'other', hosts: ['other.example.test'], ports: [https.port, 80, 443], cidrs: loopback },
        {
          name: 'api',
          hosts: ['api.example.test'],
          ports: [https.port, 443],
          access: 'read-only',
          cidrs: loopback,
        },
        { name: 'plain', hosts: ['plain.example.test'], ports: [80], cidrs: loopback },
      ],
      names: Object.fromEntries(
        ['tunnel', 'other', 'api', 'plain'].map((name) => [`${name}.example.test`, [ORIGIN]]),
      ),
      limits: { clientHelloTimeoutMs: 500 },
    });
    caFile = pemFile(`${fx.ca.certPem}${UPSTREAM_CA.certPem}`);
  });

  after(async () => {
    await fx.close();
    await Promise.all([https.close(), origin80.close(), origin443.close()]);
  });

  /** TLS through a CONNECT tunnel; resolves with the response to one GET, or rejects. */
  async function tlsThroughTunnel(
    target: string,
    servername: string,
    options: { fragment?: boolean; host?: string } = {},
  ): Promise<string> {
    const tunnel = await connectTunnel(fx.ports.httpProxy, `${target}:${https.port}`);
    assert.equal(tunnel.status, 'HTTP/1.1 200 Connection established');
    const transport = options.fragment ? fragmentingStream(tunnel.socket, 24, 3) : tunnel.socket;
    tunnel.socket.resume();
    const tls: TLSSocket = tlsConnect({
      socket: transport as never,
      servername,
      ca: [UPSTREAM_CA.certPem, fx.ca.certPem],
      ALPNProtocols: ['http/1.1'],
    });
    return new Promise((resolve, reject) => {
      let received = '';
      tls.on('secureConnect', () =>
        tls.write(
          `GET /fronting HTTP/1.1\r\nHost: ${options.host ?? `${target}:${https.port}`}\r\nConnection: close\r\n\r\n`,
        ),
      );
      tls.on('data', (data: Buffer) => {
        received += data.toString();
      });
      tls.on('error', reject);
      tls.on('close', () => (received ? resolve(received) : reject(new Error('closed without a response'))));
    });
  }

  it('an L4 tunnel whose SNI names its CONNECT target works', async () => {
    assert.match(await tlsThroughTunnel('tunnel.example.test', 'tunnel.example.test'), /^HTTP\/1\.1 200 OK/);
  });

  it('an L4 tunnel to one allowed host with the SNI of another allowed host is cut', async () => {
    await assert.rejects(tlsThroughTunnel('tunnel.example.test', 'other.example.test'));
    assert.ok(
      eventsOf(fx.events, 4001, 'egress.denied').some(
        (event) => (event as { status_code?: string }).status_code === 'sni_mismatch',
      ),
    );
  });

  it('the SNI check holds when the ClientHello is split into 24-byte records sent as separate segments', async () => {
    assert.match(
      await tlsThroughTunnel('tunnel.example.test', 'tunnel.example.test', { fragment: true }),
      /^HTTP\/1\.1 200 OK/,
    );
    await assert.rejects(tlsThroughTunnel('tunnel.example.test', 'other.example.test', { fragment: true }));
  });

  it('an L4 tunnel to a name without SNI is cut', async () => {
    const tunnel = await connectTunnel(fx.ports.httpProxy, `tunnel.example.test:${https.port}`);
    tunnel.socket.write(buildClientHello({}));
    assert.equal(await closedWithin(tunnel.socket, 2000), 'closed');
  });

  for (const [name, hello] of [
    ['Encrypted Client Hello', buildClientHello({ serverName: 'tunnel.example.test', ech: true })],
    ['two server names', buildClientHello({ serverNames: ['tunnel.example.test', 'other.example.test'] })],
    [
      'an SNI split one byte per record',
      Buffer.concat(refragment(buildClientHello({ serverName: 'other.example.test' }), 1)),
    ],
  ] as const) {
    it(`a ClientHello with ${name} (naming another host) is cut`, async () => {
      const tunnel = await connectTunnel(fx.ports.httpProxy, `tunnel.example.test:${https.port}`);
      tunnel.socket.write(hello);
      assert.equal(await closedWithin(tunnel.socket, 2000), 'closed');
    });
  }

  it('inspected: SNI naming another host is cut before TLS is terminated', async () => {
    await assert.rejects(tlsThroughTunnel('api.example.test', 'other.example.test'));
  });

  it('inspected: a Host header naming another host inside the tunnel gets 403 host_mismatch', async () => {
    const response = await tlsThroughTunnel('api.example.test', 'api.example.test', {
      host: `other.example.test:${https.port}`,
    });
    assert.match(response, /^HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"host_mismatch"/);
    const port = await tlsThroughTunnel('api.example.test', 'api.example.test', {
      host: 'api.example.test:9999',
    });
    assert.match(port, /^HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"host_mismatch"/);
  });

  it('a CONNECT whose Host header disagrees with its target is refused', async () => {
    const tunnel = await connectTunnel(
      fx.ports.httpProxy,
      `tunnel.example.test:${https.port}`,
      `Host: other.example.test:${https.port}\r\n`,
    );
    assert.equal(tunnel.status, 'HTTP/1.1 400 Bad Request');
  });

  it('an absolute-form request whose Host disagrees with its URL gets 403', async () => {
    const response = await rawExchange(fx.ports.httpProxy, [
      `GET http://plain.example.test/ HTTP/1.1\r\nHost: other.example.test\r\nConnection: close\r\n\r\n`,
    ]);
    assert.match(response, /^HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"host_mismatch"/);
    assert.equal(origin80.requests.length, 0);
  });

  it('transparent 443 routes on SNI: curl reaches an allowed L4 host', async () => {
    const result = await runClient('curl', [
      '-sS',
      '--fail',
      '--cacert',
      caFile,
      '--connect-to',
      `tunnel.example.test:443:127.0.0.1:${fx.ports.transparentHttps}`,
      'https://tunnel.example.test/transparent',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).url, '/transparent');
  });

  it('transparent 443: an SNI no service allows is cut; an inspected host with another Host gets 403', async () => {
    const evil = await runClient('curl', [
      '-sS',
      '--cacert',
      caFile,
      '--connect-to',
      `evil.example.test:443:127.0.0.1:${fx.ports.transparentHttps}`,
      'https://evil.example.test/',
    ]);
    assert.notEqual(evil.code, 0);
    const fronted = await runClient('curl', [
      '-sS',
      '-i',
      '--cacert',
      caFile,
      '-H',
      'Host: other.example.test',
      '--connect-to',
      `api.example.test:443:127.0.0.1:${fx.ports.transparentHttps}`,
      'https://api.example.test/',
    ]);
    assert.match(fronted.stdout, /^HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"host_mismatch"/);
  });

  it('transparent 80 routes on Host, and later requests on the connection must keep the same Host', async () => {
    const result = await runClient('curl', [
      '-sS',
      '--fail',
      '--connect-to',
      `plain.example.test:80:127.0.0.1:${fx.ports.transparentHttp}`,
      'http://plain.example.test/transparent-80',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).url, '/transparent-80');
    const switched = await rawExchange(fx.ports.transparentHttp, [
      'GET /first HTTP/1.1\r\nHost: plain.example.test\r\n\r\n',
      'GET /second HTTP/1.1\r\nHost: other.example.test\r\nConnection: close\r\n\r\n',
    ]);
    assert.match(
      switched,
      /^HTTP\/1\.1 200 OK[\s\S]*HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"host_mismatch"/,
    );
    assert.ok(!origin80.requests.some((request) => request.url === '/second'));
  });
});
