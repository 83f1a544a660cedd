import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyAddress } from '../../src/policy/index.ts';

describe('classifyAddress: denied ranges after resolution', () => {
  const denied: Array<[string, string, boolean]> = [
    ['127.0.0.1', 'loopback', false],
    ['127.255.255.254', 'loopback', false],
    ['10.1.2.3', 'private', false],
    ['172.16.0.1', 'private', false],
    ['172.31.255.255', 'private', false],
    ['192.168.1.1', 'private', false],
    ['100.64.0.1', 'cgnat', false],
    ['100.127.255.255', 'cgnat', false],
    ['169.254.1.1', 'link-local', false],
    ['169.254.169.254', 'metadata', true],
    ['0.0.0.0', 'this-network', true],
    ['0.1.2.3', 'this-network', true],
    ['224.0.0.1', 'multicast', true],
    ['239.255.255.250', 'multicast', true],
    ['255.255.255.255', 'broadcast', true],
    ['240.0.0.1', 'reserved', false],
    ['192.0.2.1', 'documentation', false],
    ['198.51.100.7', 'documentation', false],
    ['203.0.113.9', 'documentation', false],
    ['198.18.0.1', 'benchmarking', false],
    ['192.0.0.8', 'ietf-protocol', false],
    ['::1', 'loopback', false],
    ['::', 'unspecified', true],
    ['fe80::1', 'link-local', false],
    ['febf::1', 'link-local', false],
    ['fc00::1', 'unique-local', false],
    ['fd12:3456::1', 'unique-local', false],
    ['fd00:ec2::254', 'metadata', true],
    ['ff02::1', 'multicast', true],
    ['2001:db8::1', 'documentation', false],
    ['3fff::1', 'documentation', false],
    ['100::1', 'discard', false],
    ['fec0::1', 'site-local', false],
    ['::7f00:1', 'ipv4-compatible', false],
    ['64:ff9b:1::a00:1', 'nat64-local', false],
    // IPv4 carried inside IPv6
    ['::ffff:127.0.0.1', 'ipv4-mapped/loopback', false],
    ['::ffff:7f00:1', 'ipv4-mapped/loopback', false],
    ['::FFFF:169.254.169.254', 'ipv4-mapped/metadata', true],
    ['::ffff:a9fe:a9fe', 'ipv4-mapped/metadata', true],
    ['::ffff:10.0.0.1', 'ipv4-mapped/private', false],
    ['64:ff9b::127.0.0.1', 'nat64/loopback', false],
    ['64:ff9b::a9fe:a9fe', 'nat64/metadata', true],
    ['64:ff9b::192.168.0.1', 'nat64/private', false],
    ['2002:7f00:1::', '6to4/loopback', false],
    ['2002:a9fe:a9fe::1', '6to4/metadata', true],
    ['2002:c0a8:0101::1', '6to4/private', false],
    // Teredo: server 65.54.227.120, client 127.0.0.1 bit-inverted (80ff:fffe)
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'teredo/loopback', false],
    ['2001:0:a9fe:a9fe::', 'teredo/metadata', true],
  ];
  for (const [address, range, never] of denied) {
    it(`denies ${address} as ${range}`, () => {
      assert.deepEqual(classifyAddress(address), { range, never });
    });
  }

  for (const address of [
    '93.184.216.34',
    '1.1.1.1',
    '8.8.8.8',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
    '172.32.0.1',
    '100.128.0.1',
    '11.0.0.1',
  ]) {
    it(`allows the public address ${address}`, () => {
      assert.equal(classifyAddress(address), undefined);
    });
  }

  for (const notAnAddress of ['localhost', '2130706433', '0x7f.1', '', 'fe80::1%eth0', '::ffff:127.1']) {
    it(`denies ${JSON.stringify(notAnAddress)}, which is no address`, () => {
      assert.deepEqual(classifyAddress(notAnAddress), { range: 'invalid', never: true });
    });
  }
});
