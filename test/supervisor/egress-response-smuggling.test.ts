// Response splitting through the gateway: a raw upstream (a plain `net` server, so it can send
// what node:http never would) answers with smuggling-shaped framing and hides a second
// response in the body. The client's keep-alive connection must never see that second
// response: the gateway refuses the head (502 PDK_EGRESS_UPSTREAM, then closes) and logs why; an
// inspected request whose response was refused is audited (it did go upstream).
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventsOf, type GatewayFixture, rawExchange, startGateway } from './egress-fixtures.ts';

const HIDDEN = 'HTTP/1.1 200 OK\r\nContent-Length: 8\r\nX-Smuggled: yes\r\n\r\nsmuggled';
const LAST_CHUNK = '0\r\n\r\n';

/** What the raw upstream answers, by request path. */
const ANSWERS: Record<string, string> = {
  '/ok': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  '/chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  '/cl-te': `HTTP/1.1 200 OK\r\nContent-Length: ${LAST_CHUNK.length + HIDDEN.length}\r\nTransfer-Encoding: chunked\r\n\r\n${LAST_CHUNK}${HIDDEN}`,
  '/te-cl': `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n${LAST_CHUNK}${HIDDEN}`,
  '/two-cl': `HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: ${5 + HIDDEN.length}\r\n\r\nhello${HIDDEN}`,
  '/equal-cl': `HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello${HIDDEN}`,
  '/cl-list': `HTTP/1.1 200 OK\r\nContent-Length: 5, ${5 + HIDDEN.length}\r\n\r\nhello${HIDDEN}`,
  // A lenient client reads these as chunked; read to close, the gateway would pass HIDDEN on.
  '/chunked-gzip': `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n${LAST_CHUNK}${HIDDEN}`,
  '/chunked-chunked': `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n${LAST_CHUNK}${HIDDEN}`,
  '/http10-te': `HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${LAST_CHUNK}${HIDDEN}`,
  '/obs-fold': `HTTP/1.1 200 OK\r\nX-A: 1\r\n Content-Length: 0\r\nContent-Length: ${HIDDEN.length}\r\n\r\n${HIDDEN}`,
  '/bare-lf': `HTTP/1.1 200 OK\nContent-Length: 0\n\n${HIDDEN}`,
  '/big-head': `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\nContent-Length: 2\r\n\r\nok`,
};

/** A raw HTTP/1.1 upstream on 127.0.0.1 that answers each request head from ANSWERS and keeps the connection open. */
async function startRawUpstream(): Promise<{ port: number; paths: string[]; close(): Promise<void> }> {
  const paths: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const path = buffered.slice(0, end).split(' ')[1] ?? '';
        buffered = buffered.slice(end + 4);
        paths.push(path);
        socket.write(ANSWERS[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    port: address.port,
    paths,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('smuggling-shaped responses from upstream are refused', () => {
  let upstream: Awaited<ReturnType<typeof startRawUpstream>>;
  let fx: GatewayFixture;
  let authority: string;

  before(async () => {
    upstream = await startRawUpstream();
    authority = `raw.example.test:${upstream.port}`;
    fx = await startGateway({
      services: [
        { name: 'raw', hosts: ['raw.example.test'], ports: [upstream.port], cidrs: ['127.0.0.0/8'] },
        {
          name: 'inspected',
          hosts: ['inspected.example.test'],
          ports: [upstream.port],
          access: 'read-only',
          cidrs: ['127.0.0.0/8'],
        },
      ],
      names: { 'raw.example.test': ['127.0.0.1'], 'inspected.example.test': ['127.0.0.1'] },
    });
  });

  after(async () => {
    await fx.close();
    await upstream.close();
  });

  const get = (path: string) => `GET http://${authority}${path} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`;
  // Anywhere in the bytes, not only at line starts: a hidden response follows a body directly.
  const statusLines = (response: string) => response.match(/HTTP\/1\.[01] \d{3} [^\r\n]*/g) ?? [];

  it('carries two well-framed responses on one keep-alive connection (control)', async () => {
    const response = await rawExchange(fx.ports.httpProxy, [get('/ok'), get('/chunked')], 800);
    assert.deepEqual(statusLines(response), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    assert.match(response, /\r\n\r\nok/);
    assert.match(response, /2\r\nok\r\n0\r\n\r\n$/);
  });

  const vectors: Array<[string, string, RegExp]> = [
    ['Content-Length with Transfer-Encoding', '/cl-te', /both Content-Length and Transfer-Encoding/],
    ['Transfer-Encoding with Content-Length', '/te-cl', /both Content-Length and Transfer-Encoding/],
    ['two different Content-Lengths', '/two-cl', /more than one Content-Length/],
    ['two equal Content-Lengths', '/equal-cl', /more than one Content-Length/],
    ['a Content-Length list with differing values', '/cl-list', /Content-Length is not a decimal number/],
    ['Transfer-Encoding "chunked, gzip"', '/chunked-gzip', /does not end in a single/],
    ['Transfer-Encoding "chunked, chunked"', '/chunked-chunked', /does not end in a single/],
    ['Transfer-Encoding in HTTP/1.0', '/http10-te', /Transfer-Encoding in an HTTP\/1\.0 response/],
    ['obs-fold hiding a Content-Length', '/obs-fold', /obs-fold/],
    ['bare LF line endings', '/bare-lf', /bare LF/],
    ['a head over the 64 KiB limit, sent whole', '/big-head', /response head too large/],
  ];

  it('audits an inspected request whose response was refused: allowed, what failed, no response code', async () => {
    const inspected = `inspected.example.test:${upstream.port}`;
    const eventsBefore = fx.events.length;
    const response = await rawExchange(fx.ports.httpProxy, [
      `GET http://${inspected}/cl-te HTTP/1.1\r\nHost: ${inspected}\r\n\r\n`,
    ]);
    assert.match(response, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    const events = eventsOf(fx.events.slice(eventsBefore), 4002) as unknown as Array<{
      metadata: { event_code: string };
      http_request: { url: { url_string: string } };
      http_response?: { code?: number };
      status_detail?: string;
    }>;
    assert.equal(events.length, 1, JSON.stringify(events));
    const [event] = events;
    assert.equal(event!.metadata.event_code, 'http.allowed');
    assert.match(event!.http_request.url.url_string, /\/cl-te$/);
    assert.equal(event!.http_response?.code, undefined);
    assert.match(
      JSON.stringify(event),
      /the exchange failed: upstream response: response has both Content-Length/,
    );
  });

  for (const [name, path, detail] of vectors) {
    it(`answers 502 and closes on ${name}, passing nothing of it on`, async () => {
      const logsBefore = fx.logs.length;
      const seen = upstream.paths.length;
      // The second request waits behind the first on the client's keep-alive connection.
      const response = await rawExchange(fx.ports.httpProxy, [get(path), get('/ok')]);
      assert.match(response, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
      assert.match(response, /X-Paddock-Error: PDK_EGRESS_UPSTREAM/);
      assert.deepEqual(
        statusLines(response),
        ['HTTP/1.1 502 Bad Gateway'],
        'a second response reached the client',
      );
      assert.ok(!response.includes('smuggled') && !response.includes('X-Smuggled'));
      assert.deepEqual(upstream.paths.slice(seen), [path], 'the queued request must not be sent');
      const logged = fx.logs.slice(logsBefore).filter((line) => line.includes('upstream connection failed'));
      assert.equal(logged.length, 1, fx.logs.slice(logsBefore).join('\n'));
      assert.match(logged[0]!, detail);
    });
  }
});
