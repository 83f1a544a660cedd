// Issue 4: request smuggling and malformed HTTP, sent as raw bytes through the explicit
// proxy and the transparent port-80 listener. Each vector must be refused (400, or 431 for
// oversized heads) and no complete request may reach the upstream server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type GatewayFixture,
  rawExchange,
  startGateway,
  startUpstream,
  type Upstream,
} from './egress-fixtures.ts';

describe('request smuggling and malformed requests are refused', () => {
  let upstream: Upstream;
  let fx: GatewayFixture;
  let authority: string;

  before(async () => {
    upstream = await startUpstream();
    authority = `plain.example.test:${upstream.port}`;
    fx = await startGateway({
      services: [
        { name: 'plain', hosts: ['plain.example.test'], ports: [upstream.port, 80], cidrs: ['127.0.0.0/8'] },
        {
          name: 'rules',
          hosts: ['rules.example.test'],
          ports: [upstream.port],
          rules: [{ methods: ['GET', 'POST'], paths: ['/public/**'] }],
          cidrs: ['127.0.0.0/8'],
        },
      ],
      names: { 'plain.example.test': ['127.0.0.1'], 'rules.example.test': ['127.0.0.1'] },
      limits: { maxHeaderBytes: 4096, maxHeaderCount: 32 },
    });
  });

  after(async () => {
    await fx.close();
    await upstream.close();
  });

  const head = (lines: string[], method = 'POST') =>
    `${method} http://${authority}/x HTTP/1.1\r\nHost: ${authority}\r\n${lines.join('\r\n')}${lines.length ? '\r\n' : ''}\r\n`;

  // Built when a test runs: the upstream's port (in `authority`) is known only then.
  const vectors = (): Array<[string, string, RegExp?]> => [
    [
      'Content-Length with Transfer-Encoding (CL.TE)',
      head(['Content-Length: 6', 'Transfer-Encoding: chunked']) + '0\r\n\r\nG',
    ],
    [
      'Transfer-Encoding with Content-Length (TE.CL)',
      head(['Transfer-Encoding: chunked', 'Content-Length: 4']) + '5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n',
    ],
    ['duplicate Content-Length, equal values', head(['Content-Length: 4', 'Content-Length: 4']) + 'abcd'],
    [
      'duplicate Content-Length, different values',
      head(['Content-Length: 4', 'Content-Length: 10']) + 'abcd',
    ],
    ['Content-Length list "4, 4"', head(['Content-Length: 4, 4']) + 'abcd'],
    ['Content-Length "+4"', head(['Content-Length: +4']) + 'abcd'],
    ['Content-Length "0x4"', head(['Content-Length: 0x4']) + 'abcd'],
    ['Transfer-Encoding "chunked, identity"', head(['Transfer-Encoding: chunked, identity']) + '0\r\n\r\n'],
    ['Transfer-Encoding "identity"', head(['Transfer-Encoding: identity']) + 'abcd'],
    ['Transfer-Encoding "xchunked"', head(['Transfer-Encoding: xchunked']) + '0\r\n\r\n'],
    [
      'two Transfer-Encoding headers',
      head(['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked']) + '0\r\n\r\n',
    ],
    [
      'whitespace before the colon ("Transfer-Encoding : chunked")',
      head(['Transfer-Encoding : chunked']) + '0\r\n\r\n',
    ],
    [
      'Transfer-Encoding in HTTP/1.0',
      `POST http://${authority}/x HTTP/1.0\r\nHost: ${authority}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ],
    ['obs-fold (folded header line)', head(['X-Note: first', ' folded: Transfer-Encoding: chunked'], 'GET')],
    ['obs-fold with a tab', head(['X-Note: first', '\tsecond'], 'GET')],
    ['bare LF line endings', `GET http://${authority}/x HTTP/1.1\nHost: ${authority}\n\n`],
    ['bare CR inside a header', head(['X-Note: a\rb'], 'GET')],
    ['NUL in a header value', head(['X-Note: a\u0000b'], 'GET')],
    ['control character in a header value', head(['X-Note: a\u0001b'], 'GET')],
    ['space in a header name', head(['X Note: a'], 'GET')],
    ['a header line without a colon', head(['X-Note'], 'GET')],
    ['missing Host in HTTP/1.1', `GET http://${authority}/x HTTP/1.1\r\n\r\n`],
    ['two Host headers', head([`Host: ${authority}`], 'GET')],
    ['two spaces in the request line', `GET  http://${authority}/x HTTP/1.1\r\nHost: ${authority}\r\n\r\n`],
    ['unknown HTTP version', `GET http://${authority}/x HTTP/1.2\r\nHost: ${authority}\r\n\r\n`],
    ['HTTP/0.9-style request line', `GET http://${authority}/x\r\n\r\n`],
    ['userinfo in the absolute URL', `GET http://user@${authority}/x HTTP/1.1\r\nHost: ${authority}\r\n\r\n`],
    ['a fragment in the target', `GET http://${authority}/x#frag HTTP/1.1\r\nHost: ${authority}\r\n\r\n`],
    ['chunk size "0x5"', head(['Transfer-Encoding: chunked']) + '0x5\r\nhello\r\n0\r\n\r\n'],
    ['chunk size "-1"', head(['Transfer-Encoding: chunked']) + '-1\r\nhello\r\n0\r\n\r\n'],
    ['chunk size with trailing space', head(['Transfer-Encoding: chunked']) + '5 \r\nhello\r\n0\r\n\r\n'],
    ['chunk extension', head(['Transfer-Encoding: chunked']) + '5;x=y\r\nhello\r\n0\r\n\r\n'],
    [
      'chunk size too long (overflow)',
      head(['Transfer-Encoding: chunked']) + 'fffffffffffffffff\r\nhello\r\n0\r\n\r\n',
    ],
    ['chunk data not followed by CRLF', head(['Transfer-Encoding: chunked']) + '5\r\nhelloXX0\r\n\r\n'],
    ['chunk size line with bare LF', head(['Transfer-Encoding: chunked']) + '5\nhello\r\n0\r\n\r\n'],
    ['oversized head', head([`X-Big: ${'a'.repeat(5000)}`], 'GET'), /^HTTP\/1\.1 431 /],
    [
      'too many header fields',
      head(
        Array.from({ length: 40 }, (_, i) => `X-H${i}: v`),
        'GET',
      ),
      /^HTTP\/1\.1 431 /,
    ],
  ];

  vectors().forEach(([name], index) => {
    it(`refuses ${name} (explicit proxy)`, async () => {
      const [, bytes, expected] = vectors()[index]!;
      assert.ok(!bytes.includes('undefined'));
      const before = upstream.requests.length;
      const response = await rawExchange(fx.ports.httpProxy, [bytes]);
      assert.match(response, expected ?? /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(response, /X-Paddock-Error: PDK_EGRESS_(BAD_REQUEST|LIMIT)/);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(upstream.requests.length, before, 'a request reached the upstream');
    });
  });

  it('refuses a smuggling vector on the transparent port-80 listener too', async () => {
    const before = upstream.requests.length;
    const bytes =
      'POST / HTTP/1.1\r\nHost: plain.example.test\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG';
    const response = await rawExchange(fx.ports.transparentHttp, [bytes]);
    assert.match(response, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.equal(upstream.requests.length, before);
  });

  it('checks a request hidden after the first one on its own (pipelining)', async () => {
    const rulesAuthority = `rules.example.test:${upstream.port}`;
    const first = `POST http://${rulesAuthority}/public/a HTTP/1.1\r\nHost: ${rulesAuthority}\r\nContent-Length: 0\r\n\r\n`;
    const hidden = `GET http://${rulesAuthority}/admin HTTP/1.1\r\nHost: ${rulesAuthority}\r\n\r\n`;
    const response = await rawExchange(fx.ports.httpProxy, [first + hidden]);
    assert.match(response, /^HTTP\/1\.1 200 OK/);
    assert.match(response, /HTTP\/1\.1 403 Forbidden[\s\S]*"reason":"path_not_allowed"/);
    assert.ok(!upstream.requests.some((request) => request.url === '/admin'));
  });

  it('forwards a well-formed chunked body unchanged', async () => {
    const bytes =
      head(['Transfer-Encoding: chunked', 'Connection: close']) + '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';
    const response = await rawExchange(fx.ports.httpProxy, [
      bytes.slice(0, 40),
      bytes.slice(40, 120),
      bytes.slice(120),
    ]);
    assert.match(response, /^HTTP\/1\.1 200 OK/);
    assert.equal(JSON.parse(response.slice(response.indexOf('{'))).body, 'hello world');
  });
});
