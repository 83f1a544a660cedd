// Response heads from upstream on the inspected path: the gateway must know exactly where a
// response ends, or a second, upstream-shaped response could reach the client on its
// keep-alive connection (response splitting). Each ambiguous framing is an error, as strict
// as the request side (egress-http-head.test.ts, egress-smuggling.test.ts); RFC 9112 §6.3.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseResponseHead,
  type ResponseHead,
  responseFraming,
} from '../../src/supervisor/egress/http-response-head.ts';

const MAX = 1024;
const parse = (text: string, max = MAX) => parseResponseHead(Buffer.from(text, 'latin1'), max);
const head = (text: string) => {
  const result = parse(text);
  assert.equal(result.kind, 'head', JSON.stringify(result));
  return (result as { head: ResponseHead }).head;
};
const response = (statusLine: string, lines: readonly string[]) =>
  `${statusLine}\r\n${lines.map((line) => `${line}\r\n`).join('')}\r\n`;

describe('parseResponseHead', () => {
  it('reads status, version, fields as sent and the head length', () => {
    const text = response('HTTP/1.1 200 OK', ['Content-Length: 5', 'X-Mixed:  a b  ']);
    const parsed = head(`${text}hello`);
    assert.equal(parsed.status, 200);
    assert.equal(parsed.version, '1.1');
    assert.equal(parsed.length, text.length);
    assert.deepEqual(
      parsed.fields.map((field) => [field.name, field.value]),
      [
        ['Content-Length', '5'],
        ['X-Mixed', 'a b'],
      ],
    );
    assert.equal(head('HTTP/1.0 404 \r\n\r\n').version, '1.0');
  });

  it('waits for a head split across reads, then parses it', () => {
    const text = response('HTTP/1.1 200 OK', ['Content-Length: 2']);
    for (const cut of [1, 9, 17, text.length - 3, text.length - 1]) {
      assert.deepEqual(parse(text.slice(0, cut)), { kind: 'incomplete' }, `cut at ${cut}`);
    }
    assert.equal(head(`${text}ok`).length, text.length);
  });

  const malformed: Array<[string, string, RegExp]> = [
    ['HTTP/2.0 in the status line', response('HTTP/2.0 200 OK', []), /status line/],
    ['HTTP/1.2 in the status line', response('HTTP/1.2 200 OK', []), /status line/],
    ['lowercase http', response('http/1.1 200 OK', []), /status line/],
    ['a 2-digit status', response('HTTP/1.1 20 OK', []), /status line/],
    ['a 4-digit status', response('HTTP/1.1 2000 OK', []), /status line/],
    ['a status below 100', response('HTTP/1.1 099 Odd', []), /status line/],
    ['no space after the version', response('HTTP/1.1200 OK', []), /status line/],
    ['two spaces after the version', response('HTTP/1.1  200 OK', []), /status line/],
    ['obs-fold (SP)', response('HTTP/1.1 200 OK', ['X-A: 1', ' Content-Length: 5']), /obs-fold/],
    ['obs-fold (HTAB)', response('HTTP/1.1 200 OK', ['X-A: 1', '\tmore']), /obs-fold/],
    [
      'a space before the colon',
      response('HTTP/1.1 200 OK', ['Transfer-Encoding : chunked']),
      /header name "Transfer-Encoding "/,
    ],
    ['a line without a colon', response('HTTP/1.1 200 OK', ['X-A']), /without a field name/],
    ['a bare CR inside a value', response('HTTP/1.1 200 OK', ['X-A: a\rb']), /bare CR/],
    ['a NUL in a value', response('HTTP/1.1 200 OK', ['X-A: a\u0000b']), /NUL/],
    ['a control character in a value', response('HTTP/1.1 200 OK', ['X-A: a\u0001b']), /invalid character/],
    ['bare LF line endings', 'HTTP/1.1 200 OK\nContent-Length: 5\n\nhello', /bare LF/],
    [
      'a bare LF inside an otherwise CRLF head',
      'HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 5\r\n\r\nhello',
      /bare LF/,
    ],
    [
      'an oversized head that has ended',
      response('HTTP/1.1 200 OK', [`X-Big: ${'a'.repeat(MAX)}`]),
      /too large/,
    ],
    ['an oversized head that has not ended', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX)}`, /too large/],
  ];

  for (const [name, text, detail] of malformed) {
    it(`refuses ${name}`, () => {
      const result = parse(text);
      assert.equal(result.kind, 'error', JSON.stringify(result));
      assert.match((result as { detail: string }).detail, detail);
    });
  }

  it('refuses bare line endings before the head has ended, not only when it ends', () => {
    // Otherwise the gateway waits for a CRLFCRLF a lenient upstream may never send.
    assert.equal(parse('HTTP/1.1 200 OK\nContent-Length: 5\n').kind, 'error');
    assert.equal(parse('HTTP/1.1 200 OK\r\nX-A: a\rb').kind, 'error');
  });
});

describe('responseFraming', () => {
  const framing = (statusLine: string, lines: readonly string[], method = 'GET') =>
    responseFraming(head(response(statusLine, lines)), method);

  const framed: Array<[string, string, readonly string[], unknown, string?]> = [
    ['200 with Content-Length', 'HTTP/1.1 200 OK', ['Content-Length: 12'], { kind: 'length', length: 12 }],
    [
      'Content-Length with leading zeros',
      'HTTP/1.1 200 OK',
      ['Content-Length: 007'],
      { kind: 'length', length: 7 },
    ],
    ['Content-Length 0', 'HTTP/1.1 200 OK', ['Content-Length: 0'], { kind: 'none' }],
    ['chunked', 'HTTP/1.1 200 OK', ['Transfer-Encoding: chunked'], { kind: 'chunked' }],
    ['Chunked in any case', 'HTTP/1.1 200 OK', ['Transfer-Encoding: Chunked'], { kind: 'chunked' }],
    ['gzip then chunked', 'HTTP/1.1 200 OK', ['Transfer-Encoding: gzip, chunked'], { kind: 'chunked' }],
    [
      'gzip then chunked in two fields',
      'HTTP/1.1 200 OK',
      ['Transfer-Encoding: gzip', 'Transfer-Encoding: chunked'],
      { kind: 'chunked' },
    ],
    ['neither, HTTP/1.1 (read to close)', 'HTTP/1.1 200 OK', [], { kind: 'close' }],
    ['neither, HTTP/1.0 (read to close)', 'HTTP/1.0 200 OK', [], { kind: 'close' }],
    ['HTTP/1.0 with Content-Length', 'HTTP/1.0 200 OK', ['Content-Length: 3'], { kind: 'length', length: 3 }],
    ['204, whatever its fields say', 'HTTP/1.1 204 No Content', ['Content-Length: 9'], { kind: 'none' }],
    ['304, whatever its fields say', 'HTTP/1.1 304 Not Modified', ['Content-Length: 9'], { kind: 'none' }],
    ['100 Continue', 'HTTP/1.1 100 Continue', [], { kind: 'none' }],
    ['103 Early Hints', 'HTTP/1.1 103 Early Hints', ['Link: </a>; rel=preload'], { kind: 'none' }],
    [
      '101 Switching Protocols',
      'HTTP/1.1 101 Switching Protocols',
      ['Upgrade: websocket', 'Connection: Upgrade'],
      { kind: 'none' },
    ],
    ['a response to HEAD', 'HTTP/1.1 200 OK', ['Content-Length: 9'], { kind: 'none' }, 'HEAD'],
  ];

  for (const [name, statusLine, lines, expected, method] of framed) {
    it(`frames ${name}`, () => {
      assert.deepEqual(framing(statusLine, lines, method), expected);
    });
  }

  const ambiguous: Array<[string, string, readonly string[], RegExp]> = [
    [
      'two different Content-Lengths',
      'HTTP/1.1 200 OK',
      ['Content-Length: 5', 'Content-Length: 50'],
      /more than one Content-Length/,
    ],
    // RFC 9110 §8.6 lets a recipient accept identical repeats; the request side refuses
    // them (docs/egress.md), and so does the response side: one rule, no normalizing.
    [
      'two equal Content-Lengths',
      'HTTP/1.1 200 OK',
      ['Content-Length: 5', 'Content-Length: 5'],
      /more than one Content-Length/,
    ],
    ['a Content-Length list "5, 50"', 'HTTP/1.1 200 OK', ['Content-Length: 5, 50'], /Content-Length/],
    ['a Content-Length list "5, 5"', 'HTTP/1.1 200 OK', ['Content-Length: 5, 5'], /Content-Length/],
    ['Content-Length "+5"', 'HTTP/1.1 200 OK', ['Content-Length: +5'], /Content-Length/],
    ['Content-Length "-1"', 'HTTP/1.1 200 OK', ['Content-Length: -1'], /Content-Length/],
    ['Content-Length "0x5"', 'HTTP/1.1 200 OK', ['Content-Length: 0x5'], /Content-Length/],
    ['Content-Length "5 5"', 'HTTP/1.1 200 OK', ['Content-Length: 5 5'], /Content-Length/],
    ['an empty Content-Length', 'HTTP/1.1 200 OK', ['Content-Length:'], /Content-Length/],
    ['a 16-digit Content-Length', 'HTTP/1.1 200 OK', [`Content-Length: ${'9'.repeat(16)}`], /Content-Length/],
    [
      'Transfer-Encoding with Content-Length',
      'HTTP/1.1 200 OK',
      ['Content-Length: 5', 'Transfer-Encoding: chunked'],
      /both Content-Length and Transfer-Encoding/,
    ],
    [
      'Content-Length with Transfer-Encoding',
      'HTTP/1.1 200 OK',
      ['Transfer-Encoding: chunked', 'Content-Length: 5'],
      /both Content-Length and Transfer-Encoding/,
    ],
    // RFC 9112 §6.3 (4) would read these to close; a client that reads them as chunked
    // would take what follows the last chunk as a second response.
    ['Transfer-Encoding "gzip"', 'HTTP/1.1 200 OK', ['Transfer-Encoding: gzip'], /chunked/],
    ['Transfer-Encoding "chunked, gzip"', 'HTTP/1.1 200 OK', ['Transfer-Encoding: chunked, gzip'], /chunked/],
    [
      'Transfer-Encoding "chunked, chunked"',
      'HTTP/1.1 200 OK',
      ['Transfer-Encoding: chunked, chunked'],
      /chunked/,
    ],
    [
      'two Transfer-Encoding: chunked fields',
      'HTTP/1.1 200 OK',
      ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'],
      /chunked/,
    ],
    ['Transfer-Encoding "xchunked"', 'HTTP/1.1 200 OK', ['Transfer-Encoding: xchunked'], /chunked/],
    ['an empty Transfer-Encoding', 'HTTP/1.1 200 OK', ['Transfer-Encoding:'], /chunked/],
    // RFC 9112 §6.1: such a message's framing is faulty.
    [
      'Transfer-Encoding in HTTP/1.0',
      'HTTP/1.0 200 OK',
      ['Transfer-Encoding: chunked'],
      /Transfer-Encoding in an HTTP\/1\.0 response/,
    ],
  ];

  for (const [name, statusLine, lines, detail] of ambiguous) {
    it(`refuses ${name}`, () => {
      const result = framing(statusLine, lines);
      assert.equal(typeof result, 'string', JSON.stringify(result));
      assert.match(result as string, detail);
    });
  }
});
