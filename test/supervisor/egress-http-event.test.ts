import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type HttpDecisionInput, httpDecisionEvent } from '../../src/audit/index.ts';
import { urlObject } from '../../src/audit/events/objects.ts';
import { HttpEventCache, simpleUrlObject } from '../../src/supervisor/egress/http-event-cache.ts';

// The inspected path builds HTTP Activity events from templates (http-event-cache.ts). These
// tests hold every templated event equal, key for key and in key order, to what the audit
// layer's builder makes from the same input, and the URL shortcut equal to the WHATWG parse.

const base: HttpDecisionInput = {
  workspaceId: 'ws-1',
  sessionId: 'sess-1',
  blueprint: { name: 'bp', version: '3' },
  bundle: { id: 'bundle-1', version: '7' },
  decision: 'allow',
  reasonCode: 'rule_matched',
  reason: 'GET /** is allowed',
  ruleId: 'api#rules[0]',
  method: 'GET',
  url: 'https://api.example.test/repos/o/r?page=2',
  userAgent: 'curl/8.5',
  responseCode: 200,
  destination: { hostname: 'api.example.test', port: 443, ip: '192.0.2.10', service: 'api' },
  sourceIp: '10.88.0.2',
};

/** Builder and cache given the same input (time and uid fixed), compared as JSON text: keys, values and order. */
function assertSame(cache: HttpEventCache, input: HttpDecisionInput): void {
  const fixed = { ...input, time: 1_700_000_000_000, uid: `uid-${Math.random()}` };
  assert.equal(JSON.stringify(cache.build(fixed)), JSON.stringify(httpDecisionEvent(fixed)));
}

describe('HTTP Activity events from templates', () => {
  it('a templated event equals the builder output for request after request', () => {
    const cache = new HttpEventCache();
    const variants: Array<Partial<HttpDecisionInput>> = [
      {},
      { url: 'https://api.example.test/other/path' },
      { url: 'https://api.example.test/q?' },
      { url: 'https://api.example.test/a/b.c/d..e/.x?y=../z&w=%2e' },
      { userAgent: 'another agent' },
      { userAgent: undefined },
      { responseCode: 502 },
      { method: 'POST', responseCode: 201 },
      { method: 'PROPFIND', responseCode: 207 },
      { decision: 'deny', reasonCode: 'rule_missing', reason: 'no rule allows DELETE', responseCode: 403 },
      { correlationUid: 'review-1' },
      { url: 'http://api.example.test:8080/x', destination: { ...base.destination!, port: 8080 } },
      { url: 'http://192.0.2.10:8443/ip', destination: { hostname: '192.0.2.10', port: 8443 } },
      { url: 'https://api.example.test/redacted?token=[REDACTED]' },
      { sessionId: 'sess-2' },
      { bundle: { id: 'bundle-2', version: '8' } },
    ];
    for (let round = 0; round < 3; round++) {
      for (const variant of variants) assertSame(cache, { ...base, ...variant } as HttpDecisionInput);
    }
  });

  it('events share no mutable object: changing one leaves the next intact', () => {
    const cache = new HttpEventCache();
    const first = cache.build(base) as unknown as Record<string, Record<string, unknown>>;
    const second = cache.build(base) as unknown as Record<string, Record<string, unknown>>;
    assert.throws(() => {
      (second['dst_endpoint'] as Record<string, unknown>)['hostname'] = 'evil.example.test';
    }, TypeError);
    second['metadata']!['uid'] = 'changed';
    (second['http_request']!['url'] as Record<string, unknown>)['path'] = '/changed';
    const third = cache.build(base) as unknown as Record<string, Record<string, unknown>>;
    assert.notEqual(third['metadata']!['uid'], 'changed');
    assert.equal((third['http_request']!['url'] as Record<string, unknown>)['path'], '/repos/o/r');
    assert.equal((third['dst_endpoint'] as Record<string, unknown>)['hostname'], 'api.example.test');
    // The first event (the builder's own) is the caller's to keep: not frozen.
    first['metadata']!['uid'] = 'mine';
    assert.equal(first['metadata']!['uid'], 'mine');
  });

  it('every event gets its own uid and time', () => {
    const cache = new HttpEventCache();
    const uids = new Set<unknown>();
    for (let index = 0; index < 5; index++)
      uids.add((cache.build(base) as unknown as { metadata: { uid: string } }).metadata.uid);
    assert.equal(uids.size, 5);
  });

  it('the URL shortcut agrees with the WHATWG parse, and declines what the parse would rewrite', () => {
    const simple = [
      'http://example.test/',
      'http://example.test:8080/a/b?c=d&e=f',
      'https://a-b.c1.example.test/x;y=z/@:!$&()*+,=~_.-%41',
      'https://example.test/?',
      'https://example.test/p?q=?/[x]',
      'http://10.0.0.1:81/',
      'http://255.255.255.255/x',
      'https://example.test/a.b/.c/..d/e.',
      'https://example.test/.well-known/x/.../y',
      'https://example.test/%zz/%2?q=%',
      'https://example.test/[x]/y?z=[REDACTED]',
    ];
    // As JSON: the builder drops undefined members (prune), so a missing query is no key at all.
    for (const href of simple)
      assert.equal(JSON.stringify(simpleUrlObject(href)), JSON.stringify(urlObject(href)), href);
    const declined = [
      'http://example.test/a/../b',
      'http://example.test/a/./b',
      'http://example.test/a/%2e%2E/b',
      'http://example.test/a/.%2e',
      'http://example.test/a\\b',
      'http://example.test/a"b',
      'http://example.test/a^b',
      'http://example.test/a{b}',
      'http://example.test/a`b',
      'http://example.test/a|b',
      "http://example.test/?a='b'",
      'http://example.test:80/default-port',
      'https://example.test:443/default-port',
      'http://example.test:080/leading-zero',
      'http://example.test:65536/',
      'http://Example.test/upper',
      'http://xn--nxasmq6b.example/idna',
      'http://example.123/ends-in-number',
      'http://0x7f.1/hex',
      'http://127.1/short-ipv4',
      'http://010.0.0.1/octal',
      'http://[::1]/v6',
      'http://user:pw@example.test/',
      'http://example.test/#frag',
      'http://example.test',
      'ftp://example.test/',
    ];
    for (const href of declined) assert.equal(simpleUrlObject(href), undefined, href);
  });

  it('an input the template does not cover goes to the builder', () => {
    const cache = new HttpEventCache();
    for (const variant of [
      { url: 'http://example.test/a/../b' },
      { url: 'http://[2001:db8::1]:8080/x' },
      { responseCode: undefined },
      { destination: undefined },
    ]) {
      for (let round = 0; round < 2; round++) assertSame(cache, { ...base, ...variant } as HttpDecisionInput);
    }
  });
});
