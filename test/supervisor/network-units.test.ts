// Issue 3 (Network): the pure parts of the sandbox network — address plan, names, route overlap,
// rulesets (checked by nft itself), destination parsing, ClientHello and SOCKS5 parsers, counters.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { isPaddockError } from '../../src/core/errors.ts';
import {
  DEFAULT_PROXY_PORTS,
  overlappingHostRoutes,
  parseAddressPool,
  parseHostInterfaceName,
  parseNetnsName,
  planSlot,
  proxyPortList,
} from '../../src/supervisor/sandbox/network/address-plan.ts';
import { absoluteTarget, splitHostPort } from '../../src/supervisor/sandbox/network/authority.ts';
import { parseDropCounters } from '../../src/supervisor/sandbox/network/drop-counters.ts';
import { hostRuleset, sandboxRuleset } from '../../src/supervisor/sandbox/network/nft-rules.ts';
import {
  parseGreeting,
  parseRequest,
  socksReply,
} from '../../src/supervisor/sandbox/network/socks5-handshake.ts';
import { MAX_HELLO_BYTES, parseClientHello } from '../../src/supervisor/sandbox/network/tls-client-hello.ts';
import { requireRoot } from './network-support.ts';

/** A real ClientHello, as Node's TLS client sends it to a loopback server. */
function captureClientHello(servername: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => {
        chunks.push(chunk);
        const data = Buffer.concat(chunks);
        if (data.length >= 5 && data.length >= 5 + data.readUInt16BE(3)) {
          socket.destroy();
          server.close();
          resolve(data);
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      tlsConnect({ host: '127.0.0.1', port, servername }).on('error', () => {});
    });
  });
}

describe('address plan', () => {
  it('splits the pool into /30 slots, slot 0 reserved', () => {
    const pool = parseAddressPool('10.231.0.0/16');
    assert.equal(pool.slots, 16_384);
    assert.deepEqual(planSlot(pool, 1, 42), {
      slot: 1,
      hostAddress: '10.231.0.5',
      sandboxAddress: '10.231.0.6',
      netnsName: 'pdk-1-42',
      hostInterface: 'pdkh1',
    });
    assert.equal(planSlot(pool, 16_383, 1).hostAddress, '10.231.255.253');
    assert.throws(() => planSlot(pool, 0, 1), RangeError);
    assert.throws(() => planSlot(pool, 16_384, 1), RangeError);
  });

  it('accepts only aligned private pools from /12 to /29', () => {
    assert.equal(parseAddressPool('172.16.0.0/12').slots, 2 ** 18);
    assert.equal(parseAddressPool('100.64.0.0/29').slots, 2);
    for (const cidr of [
      '10.231.0.0/11',
      '10.231.0.0/30',
      '10.231.0.4/16',
      '11.0.0.0/16',
      '192.0.2.0/24',
      '10.231.0/16',
    ]) {
      assert.throws(
        () => parseAddressPool(cidr),
        (error: unknown) => isPaddockError(error, 'PDK_NETWORK_ADDRESS_POOL') && error.message.includes(cidr),
      );
    }
  });

  it('reads back only its own names', () => {
    assert.deepEqual(parseNetnsName('pdk-17-4242'), { slot: 17, ownerPid: 4242 });
    assert.equal(parseNetnsName('pdk-17'), undefined);
    assert.equal(parseNetnsName('cni-1234'), undefined);
    assert.equal(parseHostInterfaceName('pdkh17'), 17);
    assert.equal(parseHostInterfaceName('pdkh17x'), undefined);
    assert.equal(parseHostInterfaceName('eth0'), undefined);
  });

  it('finds host routes overlapping the pool (ignoring its own interfaces and the default route)', () => {
    const table = [
      'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
      'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'pdkh7\t1C00E70A\t00000000\t0001\t0\t0\t0\tFCFFFFFF\t0\t0\t0',
      'wg0\t0005E70A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'tun0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0',
    ].join('\n');
    assert.deepEqual(overlappingHostRoutes(parseAddressPool('10.231.0.0/16'), table), [
      '10.231.5.0/24 dev wg0',
      '10.0.0.0/8 dev tun0',
    ]);
    assert.deepEqual(overlappingHostRoutes(parseAddressPool('192.168.0.0/16'), table), []);
  });

  it('wants four different ports', () => {
    assert.deepEqual(proxyPortList(DEFAULT_PROXY_PORTS), [14128, 14080, 14443, 14180]);
    assert.throws(() => proxyPortList({ ...DEFAULT_PROXY_PORTS, socks: 14128 }), RangeError);
    assert.throws(() => proxyPortList({ ...DEFAULT_PROXY_PORTS, socks: 0 }), RangeError);
  });
});

describe('rulesets', () => {
  it('are accepted by nft (check mode, nothing applied)', () => {
    requireRoot();
    execFileSync('nft', ['-c', '-f', '-'], { input: sandboxRuleset('10.231.0.5', DEFAULT_PROXY_PORTS) });
    execFileSync('nft', ['-c', '-f', '-'], { input: hostRuleset(DEFAULT_PROXY_PORTS) });
  });

  it('allow only the host address on the proxy ports and redirect 80/443 there', () => {
    const rules = sandboxRuleset('10.231.0.5', DEFAULT_PROXY_PORTS);
    assert.match(rules, /type filter hook output priority 0; policy drop;/);
    assert.match(
      rules,
      /ip daddr 10\.231\.0\.5 tcp dport \{ 14128, 14080, 14443, 14180 \} ct state new accept/,
    );
    assert.match(rules, /tcp dport 80 dnat ip to 10\.231\.0\.5:14080/);
    assert.match(rules, /tcp dport 443 dnat ip to 10\.231\.0\.5:14443/);
    const output = rules.slice(rules.indexOf('chain output'), rules.indexOf('chain input'));
    const accepts = output.split('\n').filter((line) => / accept$/.test(line.trim()));
    assert.deepEqual(
      accepts.map((line) => line.trim().split(' ')[0]),
      ['oif', 'ct', 'oifname'],
      'the output chain accepts loopback, established flows and the proxy ports, nothing else',
    );
  });
});

describe('destination parsing', () => {
  it('splits host and port without normalizing the host', () => {
    assert.deepEqual(splitHostPort('api.example.test:443', 0), { host: 'api.example.test', port: 443 });
    assert.deepEqual(splitHostPort('[::1]:8443', 443), { host: '::1', port: 8443 });
    assert.deepEqual(splitHostPort('[::1]', 443), { host: '::1', port: 443 });
    assert.deepEqual(splitHostPort('::1', 80), { host: '::1', port: 80 });
    assert.deepEqual(splitHostPort('0x7f.1:80', 0), { host: '0x7f.1', port: 80 });
    assert.deepEqual(splitHostPort('a.test:99999', 0), { host: 'a.test', port: 0 });
    assert.deepEqual(splitHostPort('a.test:+80', 0), { host: 'a.test', port: 0 });
    assert.deepEqual(absoluteTarget('http://user:pw@A.Example.test:8080/x?y'), {
      host: 'A.Example.test',
      port: 8080,
    });
    assert.deepEqual(absoluteTarget('https://[fd00:ec2::254]/latest'), { host: 'fd00:ec2::254', port: 443 });
    assert.equal(absoluteTarget('/relative'), undefined);
  });
});

describe('TLS ClientHello', () => {
  it('reads the server name from a real ClientHello, whole, split into records, or truncated', async () => {
    const hello = await captureClientHello('api.example.test');
    assert.deepEqual(parseClientHello(hello, MAX_HELLO_BYTES), {
      kind: 'hello',
      serverName: 'api.example.test',
      ech: false,
    });
    assert.deepEqual(parseClientHello(hello.subarray(0, 3), MAX_HELLO_BYTES), { kind: 'incomplete' });
    assert.deepEqual(parseClientHello(hello.subarray(0, hello.length - 1), MAX_HELLO_BYTES), {
      kind: 'incomplete',
    });
    // The same handshake carried in two records.
    const body = hello.subarray(5);
    const record = (part: Buffer) =>
      Buffer.concat([Buffer.from([22, 3, 1, part.length >> 8, part.length & 255]), part]);
    const split = Buffer.concat([record(body.subarray(0, 40)), record(body.subarray(40))]);
    assert.deepEqual(parseClientHello(split, MAX_HELLO_BYTES), {
      kind: 'hello',
      serverName: 'api.example.test',
      ech: false,
    });
  });

  it('reports no server name, non-TLS and oversized hellos', async () => {
    const literal = await captureClientHello('');
    assert.deepEqual(parseClientHello(literal, MAX_HELLO_BYTES), {
      kind: 'hello',
      serverName: undefined,
      ech: false,
    });
    assert.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n'), MAX_HELLO_BYTES).kind, 'not-tls');
    const huge = Buffer.from([22, 3, 1, 0x40, 0x00, 1, 0x01, 0x00, 0x00]);
    assert.deepEqual(parseClientHello(huge, MAX_HELLO_BYTES), {
      kind: 'error',
      detail: 'ClientHello too large',
    });
  });
});

describe('SOCKS5 messages', () => {
  it('parses greetings and requests incrementally', () => {
    assert.deepEqual(parseGreeting(Buffer.from([5])), { kind: 'incomplete' });
    assert.deepEqual(parseGreeting(Buffer.from([5, 2, 0, 2])), {
      kind: 'complete',
      length: 4,
      methods: [0, 2],
    });
    assert.equal(parseGreeting(Buffer.from([4, 1])).kind, 'invalid');
    const domain = Buffer.from([5, 1, 0, 3, 6, ...Buffer.from('a.test'), 0, 80]);
    assert.deepEqual(parseRequest(domain.subarray(0, 8)), { kind: 'incomplete' });
    assert.deepEqual(parseRequest(domain), {
      kind: 'complete',
      length: 13,
      command: 1,
      host: 'a.test',
      addressType: 'domain',
      port: 80,
    });
    const ipv6 = Buffer.from([5, 1, 0, 4, 0xfd, 0, 0x0e, 0xc2, ...Array(10).fill(0), 0x02, 0x54, 1, 187]);
    assert.equal((parseRequest(ipv6) as { host: string }).host, 'fd00:ec2::254');
    assert.deepEqual(parseRequest(Buffer.from([5, 1, 0, 9, 0])), { kind: 'invalid', why: 'address type 9' });
    assert.deepEqual([...socksReply(2)], [5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
  });
});

describe('drop counters', () => {
  it('reads every kind, and refuses a table with one missing', () => {
    const counter = (name: string, packets: number) => ({
      counter: { family: 'inet', name, table: 'paddock', packets },
    });
    const all = ['tcp', 'udp', 'icmp', 'other', 'ipv6', 'dns'].map((kind, index) =>
      counter(`drop_${kind}`, index),
    );
    const json = JSON.stringify({ nftables: [{ metainfo: { version: '1.0.6' } }, ...all] });
    assert.deepEqual(parseDropCounters(json), { tcp: 0, udp: 1, icmp: 2, other: 3, ipv6: 4, dns: 5 });
    const missing = JSON.stringify({ nftables: all.slice(1) });
    assert.throws(() => parseDropCounters(missing), /counters missing from the sandbox table: tcp/);
  });
});
