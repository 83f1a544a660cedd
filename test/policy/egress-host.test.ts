import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostMatchesPattern, hostsAgree, normalizeHost, splitAuthority } from '../../src/policy/index.ts';

describe('normalizeHost', () => {
  it('lower-cases names and drops one trailing dot', () => {
    assert.deepEqual(normalizeHost('API.GitHub.com.'), { kind: 'name', host: 'api.github.com' });
    assert.deepEqual(normalizeHost('api.github.com'), { kind: 'name', host: 'api.github.com' });
    assert.deepEqual(normalizeHost('api.github.com..'), { kind: 'invalid', reason: 'invalid_host' });
    assert.deepEqual(normalizeHost('.api.github.com'), { kind: 'invalid', reason: 'invalid_host' });
  });

  it('maps IDN U-labels to punycode A-labels and keeps A-labels', () => {
    assert.deepEqual(normalizeHost('bücher.example'), { kind: 'name', host: 'xn--bcher-kva.example' });
    assert.deepEqual(normalizeHost('XN--BCHER-KVA.example'), { kind: 'name', host: 'xn--bcher-kva.example' });
    assert.deepEqual(normalizeHost('Bücher.example'), { kind: 'name', host: 'xn--bcher-kva.example' });
    // Look-alikes that UTS #46 maps onto ASCII are refused, not folded.
    assert.deepEqual(normalizeHost('ＥＸＡＭＰＬＥ.com'), { kind: 'invalid', reason: 'invalid_host' });
    assert.deepEqual(normalizeHost('api.github.com／evil.com'), { kind: 'invalid', reason: 'invalid_host' });
    assert.deepEqual(normalizeHost('api。github.com'), { kind: 'invalid', reason: 'invalid_host' });
  });

  it('accepts canonical dotted-quad IPv4 as a literal', () => {
    assert.deepEqual(normalizeHost('93.184.216.34'), { kind: 'ip', host: '93.184.216.34', family: 4 });
  });

  for (const tricky of [
    '2130706433',
    '0x7f.1',
    '0x7f000001',
    '017700000001',
    '0177.0.0.1',
    '127.1',
    '127.0.1',
    '127.0.0.01',
    '0x7F.0.0.1',
    '08.1.1.1',
    '127.0.0.1.',
    '1.2.3.4.5',
    '0',
  ]) {
    it(`refuses the non-canonical IPv4 form ${tricky}`, () => {
      const result = normalizeHost(tricky);
      assert.equal(result.kind, 'invalid', tricky);
    });
  }

  it('names numeric IPv4 forms as non-canonical literals', () => {
    assert.deepEqual(normalizeHost('2130706433'), { kind: 'invalid', reason: 'ip_literal_noncanonical' });
    assert.deepEqual(normalizeHost('0x7f.1'), { kind: 'invalid', reason: 'ip_literal_noncanonical' });
    assert.deepEqual(normalizeHost('017700000001'), { kind: 'invalid', reason: 'ip_literal_noncanonical' });
  });

  it('canonicalizes IPv6 with or without brackets, and refuses zone ids', () => {
    assert.deepEqual(normalizeHost('[::FFFF:127.0.0.1]'), { kind: 'ip', host: '::ffff:7f00:1', family: 6 });
    assert.deepEqual(normalizeHost('0:0:0:0:0:0:0:1'), { kind: 'ip', host: '::1', family: 6 });
    assert.deepEqual(normalizeHost('[fe80::1%eth0]'), { kind: 'invalid', reason: 'invalid_host' });
    assert.deepEqual(normalizeHost('[example.com]'), { kind: 'invalid', reason: 'invalid_host' });
  });

  for (const bad of [
    '',
    'exa mple.com',
    'exa_mple.com',
    '-a.example.com',
    'a-.example.com',
    'a'.repeat(64) + '.com',
    'a/b.com',
    'foo.123',
    'ex\u0000ample.com',
    'a@b.com',
  ]) {
    it(`refuses the invalid host ${JSON.stringify(bad)}`, () => {
      assert.equal(normalizeHost(bad).kind, 'invalid');
    });
  }
});

describe('hostMatchesPattern', () => {
  it('matches exact names only exactly', () => {
    assert.equal(hostMatchesPattern('api.github.com', 'api.github.com'), true);
    assert.equal(hostMatchesPattern('api.github.com.evil.com', 'api.github.com'), false);
    assert.equal(hostMatchesPattern('xapi.github.com', 'api.github.com'), false);
  });

  it('matches a wildcard with exactly one extra leading label', () => {
    assert.equal(hostMatchesPattern('a.example.com', '*.example.com'), true);
    assert.equal(hostMatchesPattern('example.com', '*.example.com'), false);
    assert.equal(hostMatchesPattern('a.b.example.com', '*.example.com'), false);
    assert.equal(hostMatchesPattern('aexample.com', '*.example.com'), false);
    assert.equal(hostMatchesPattern('.example.com', '*.example.com'), false);
  });
});

describe('hostsAgree', () => {
  it('compares normalized forms', () => {
    assert.equal(hostsAgree('API.github.com.', 'api.github.com'), true);
    assert.equal(hostsAgree('[::1]', '0::1'), true);
    assert.equal(hostsAgree('api.github.com', 'evil.com'), false);
    assert.equal(hostsAgree('0x7f.1', '0x7F.1'), true); // same text: refused later, at connect
    assert.equal(hostsAgree('0x7f.1', '127.0.0.1'), false);
  });
});

describe('splitAuthority', () => {
  it('splits names, IPv4 and bracketed IPv6', () => {
    assert.deepEqual(splitAuthority('example.com:443'), { host: 'example.com', port: 443 });
    assert.deepEqual(splitAuthority('[::1]:8443'), { host: '[::1]', port: 8443 });
    assert.deepEqual(splitAuthority('example.com', 80), { host: 'example.com', port: 80 });
  });

  for (const bad of [
    'example.com',
    'example.com:',
    'example.com:0',
    'example.com:65536',
    'example.com:080',
    'user@example.com:443',
    '::1:443',
    '[::1]443',
    ':443',
    'example.com:44x',
  ]) {
    it(`refuses ${JSON.stringify(bad)} without a default port`, () => {
      assert.equal(splitAuthority(bad), undefined);
    });
  }
});
