import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseRequestHead,
  parseTarget,
  type RequestHead,
  requestFraming,
} from '../../src/supervisor/egress/http-head.ts';

const parse = (text: string) => parseRequestHead(Buffer.from(text, 'latin1'), 4096, 16);
const head = (text: string) => {
  const result = parse(text);
  assert.equal(result.kind, 'head', JSON.stringify(result));
  return (result as { head: RequestHead }).head;
};

describe('parseRequestHead', () => {
  it('keeps fields as sent, in order, with their original case', () => {
    const parsed = head(
      'GET /a?b=1 HTTP/1.1\r\nHost: x.example.test\r\nX-Mixed-Case:  value  \r\nx-mixed-case: again\r\n\r\nbody',
    );
    assert.equal(parsed.method, 'GET');
    assert.equal(parsed.target, '/a?b=1');
    assert.equal(parsed.version, '1.1');
    assert.deepEqual(
      parsed.fields.map((field) => [field.name, field.value]),
      [
        ['Host', 'x.example.test'],
        ['X-Mixed-Case', 'value'],
        ['x-mixed-case', 'again'],
      ],
    );
    assert.equal(
      parsed.length,
      'GET /a?b=1 HTTP/1.1\r\nHost: x.example.test\r\nX-Mixed-Case:  value  \r\nx-mixed-case: again\r\n\r\n'
        .length,
    );
  });

  it('waits for the end of the head, and fails as early as the bytes allow', () => {
    assert.deepEqual(parse('GET / HTTP/1.1\r\nHost: x'), { kind: 'incomplete' });
    assert.equal(parse('GET / HTTP/1.1\nHost').kind, 'error');
    assert.equal(parse(`GET / HTTP/1.1\r\nX: ${'a'.repeat(5000)}`).kind, 'error');
  });

  it('lets HTTP/1.0 omit Host', () => {
    assert.equal(head('GET / HTTP/1.0\r\n\r\n').version, '1.0');
  });
});

describe('requestFraming', () => {
  it('reads Content-Length and chunked, and treats 0 as no body', () => {
    assert.deepEqual(requestFraming(head('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n')), {
      kind: 'length',
      length: 12,
    });
    assert.deepEqual(requestFraming(head('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')), {
      kind: 'none',
    });
    assert.deepEqual(
      requestFraming(head('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n')),
      { kind: 'chunked' },
    );
    assert.deepEqual(requestFraming(head('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), { kind: 'none' });
  });
});

describe('parseTarget', () => {
  it('splits the four forms without normalizing', () => {
    assert.deepEqual(parseTarget('GET', '/a/../b?q'), { form: 'origin', path: '/a/../b', query: '?q' });
    assert.deepEqual(parseTarget('GET', 'HTTP://Host.example:8080/p'), {
      form: 'absolute',
      authority: 'Host.example:8080',
      path: '/p',
      query: '',
    });
    assert.deepEqual(parseTarget('GET', 'http://host.example?x'), {
      form: 'absolute',
      authority: 'host.example',
      path: '/',
      query: '?x',
    });
    assert.deepEqual(parseTarget('CONNECT', 'host.example:443'), {
      form: 'authority',
      authority: 'host.example:443',
    });
    assert.deepEqual(parseTarget('OPTIONS', '*'), { form: 'asterisk' });
  });

  it('refuses https absolute form, userinfo, fragments and misplaced forms', () => {
    for (const [method, target] of [
      ['GET', 'https://h.example/'],
      ['GET', 'http://u@h.example/'],
      ['GET', '/a#b'],
      ['GET', '*'],
      ['CONNECT', 'h.example:443/x'],
      ['GET', 'h.example:80'],
    ]) {
      assert.equal(parseTarget(method!, target!), undefined, `${method} ${target}`);
    }
  });
});
