// Egress gateway throughput and latency beside squid, tinyproxy and a direct connection,
// all measured in this run on this machine (`npm run bench -- proxy`):
//   (a) bulk throughput through a CONNECT tunnel (one connection streaming zeros, between
//       C endpoints: proxy/bulk-endpoints.c)
//   (b) keep-alive request rate: absolute-form plain HTTP with wrk (16 connections), the
//       gateway both inspected (L7: every request parsed and matched) and not; plain HTTP
//       inside a CONNECT tunnel (which the gateway still parses, to check every Host); and
//       HTTPS inside a tunnel: relayed (L4, SNI checked once) and inspected (TLS terminated
//       and re-originated), while squid and tinyproxy only relay it
//   (c) latency of sequential requests on one keep-alive connection: p50 and p99, and what
//       each proxy adds to the direct figure; plain HTTP (the gateway inspecting) and HTTPS in
//       a tunnel (every proxy relaying)
// Part (a) depends on the TCP congestion control: BBR paces every send, and on loopback that
// halves even a direct connection. So where the host's default is not cubic (Linux's own
// default), part (a) runs a second time, as root, in a private network namespace set to cubic:
// the first figure is this host's, the second the path's own cost.
// Every process (upstreams, gateway, peers, load generator) is separate, as in production.
// Needs squid, tinyproxy and wrk (`apt-get install squid tinyproxy wrk`; bench-only).
// Results: bench/results/proxy.json. PADDOCK_BENCH_PARTS=a (or b, c, a,c …) runs only those parts.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureNativeProgram } from '../src/supervisor/native-program.ts';
import { have, type Peer, startSquid, startTinyproxy } from './proxy/peers.ts';

const HERE = fileURLToPath(new URL('proxy/', import.meta.url));
const RESULTS = fileURLToPath(new URL('results/', import.meta.url));
const SECONDS = Number(process.env.PADDOCK_BENCH_SECONDS ?? 2);
/**
 * Every figure is the best of this many rounds, the variants interleaved within a round: the
 * machine is shared (2 cores), and the best of several short runs is the figure least
 * disturbed by whatever else ran meanwhile.
 */
const ROUNDS = Number(process.env.PADDOCK_BENCH_ROUNDS ?? 3);
/** Which parts run: PADDOCK_BENCH_PARTS=a,c runs throughput and latency only. Default all. */
const PARTS = new Set((process.env.PADDOCK_BENCH_PARTS ?? 'a,b,c').split(',').map((part) => part.trim()));

/** Set in the repeat of part (a) in a private network namespace (see the header). */
const PRIVATE_NETNS = process.env.PADDOCK_BENCH_PRIVATE_NETNS === '1';
const CONGESTION_SYSCTL = '/proc/sys/net/ipv4/tcp_congestion_control';
if (PRIVATE_NETNS) {
  // unshare --net made the namespace; its loopback starts down, its default is the host's.
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  writeFileSync(CONGESTION_SYSCTL, 'cubic');
}
const CONGESTION = readFileSync(CONGESTION_SYSCTL, 'utf8').trim();

/** Runs every variant once per round, interleaved; each variant's results in round order. */
async function everyRound<T>(variants: Array<[string, () => Promise<T>]>): Promise<Record<string, T[]>> {
  const results: Record<string, T[]> = Object.fromEntries(variants.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, measure] of variants) results[name]!.push(await measure());
  }
  return results;
}

/** Each variant's best result over the rounds (`better` decides). */
function best<T>(rounds: Record<string, T[]>, better: (a: T, b: T) => boolean): Record<string, T> {
  return Object.fromEntries(
    Object.entries(rounds).map(([name, values]) => [name, values.reduce((a, b) => (better(b, a) ? b : a))]),
  );
}

/** Runs the rounds and keeps each variant's best result. */
async function bestOf<T>(
  variants: Array<[string, () => Promise<T>]>,
  better: (a: T, b: T) => boolean,
): Promise<Record<string, T>> {
  return best(await everyRound(variants), better);
}

const median = (values: number[]) => {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const higher = (a: number, b: number) => a > b;
const work = mkdtempSync(join(tmpdir(), 'pdk-bench-proxy-'));
const RESULT_NAME = `proxy${PARTS.size === 3 ? '' : `-${[...PARTS].sort().join('')}`}${PRIVATE_NETNS ? '-cubic' : ''}`;

/** What the repeat of part (a) wrote (its `results`). */
interface CubicRepeat {
  throughputBytesPerSecond: Record<string, number>;
  throughputMedianRatioToDirect: Record<string, number>;
  targets: { tunnelAtLeast80PercentOfDirect: boolean };
}

/** Part (a) again, in a private network namespace set to cubic (the header says why). */
function repeatWithCubic(): CubicRepeat | undefined {
  if (process.getuid?.() !== 0) {
    process.stdout.write('  (not repeated with cubic: a private network namespace needs root)\n');
    return undefined;
  }
  const child = spawnSync('unshare', ['--net', process.execPath, fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, PADDOCK_BENCH_PARTS: 'a', PADDOCK_BENCH_PRIVATE_NETNS: '1' },
  });
  if (child.status !== 0) throw new Error(`part (a) with cubic failed: exit ${child.status ?? child.signal}`);
  return JSON.parse(readFileSync(join(RESULTS, 'proxy-a-cubic.json'), 'utf8')) as CubicRepeat;
}

for (const program of ['squid', 'tinyproxy', 'wrk']) {
  if (!have(program))
    throw new Error(`${program} is not installed: apt-get install squid tinyproxy wrk (bench-only packages)`);
}

const children: ChildProcess[] = [];
async function startNode(script: string, args: string[]): Promise<Record<string, number>> {
  const child = spawn(process.execPath, [join(HERE, script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return JSON.parse(line) as Record<string, number>;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited with ${code}: ${out}`)),
    );
  });
}

const load = async (job: Record<string, unknown>) =>
  JSON.parse(await run(process.execPath, [join(HERE, 'load.ts'), JSON.stringify(job)])) as Record<
    string,
    number
  >;

async function wrk(url: string, target?: string): Promise<number> {
  const args = ['-t1', '-c16', `-d${SECONDS}s`, '--latency'];
  if (target) {
    const script = join(work, `wrk-${Math.random().toString(16).slice(2)}.lua`);
    writeFileSync(script, `wrk.path = "http://${target}/"\nwrk.headers["Host"] = "${target}"\n`);
    args.push('-s', script);
  }
  const out = await run('wrk', [...args, url]);
  const match = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!match) throw new Error(`wrk printed no rate: ${out}`);
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`wrk saw errors through ${url}: ${out}`);
  return Number(match[1]);
}

/** Part (a)'s source and sink, in C (bulk-endpoints.c says why); built into the run's directory. */
const BULK_ENDPOINTS = ensureNativeProgram(
  {
    name: 'bulk-endpoints',
    source: join(HERE, 'bulk-endpoints.c'),
    buildError: 'PDK_INTERNAL',
    description: 'the benchmark bulk endpoints',
  },
  join(work, 'native'),
);
async function startBulkSource(): Promise<number> {
  const child = spawn(BULK_ENDPOINTS, ['source'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bulk-endpoints source exited with ${code}`)));
  });
  return Number(line);
}

const upstreamCa = join(work, 'upstream-ca.pem');
const tlsJob = (servername: string, caFile: string) => ({ servername, caFile });
const workspaceCa = join(work, 'workspace-ca.pem');
const upstream: Record<string, number> = {
  ...(await startNode('upstream.ts', [upstreamCa])),
  bulk: await startBulkSource(),
};
const gateway = await startNode('gateway.ts', [JSON.stringify(upstream), upstreamCa, workspaceCa]);
const peers: Peer[] = [await startSquid(), await startTinyproxy()];
const proxies: Array<[string, number]> = [
  ['paddock', gateway.httpProxy!],
  ...peers.map((peer) => [peer.name, peer.port] as [string, number]),
];
const local = (port: number) => ({ host: '127.0.0.1', port });
const round = (value: number) => Math.round(value);

try {
  let throughput: Record<string, number> | undefined;
  let throughputMedianRatio: Record<string, number> | undefined;
  let throughputWithCubic: CubicRepeat | undefined;
  let absolute: Record<string, number> | undefined;
  let tunnel: Record<string, number> | undefined;
  let tls: Record<string, number> | undefined;
  type Latency = { p50Us: number; p99Us: number; addedP50Us?: number; addedP99Us?: number };
  let latency: Record<string, Latency> | undefined;

  if (PARTS.has('a')) {
    const where = PRIVATE_NETNS ? 'in a private network namespace' : "this host's default";
    process.stdout.write(
      `(a) bulk throughput through a CONNECT tunnel (best of ${ROUNDS}; congestion control ${CONGESTION}, ${where})\n`,
    );
    // The C sink: 0 as the proxy port connects directly.
    const bulk = (proxyPort: number) => async () =>
      (
        JSON.parse(
          await run(BULK_ENDPOINTS, ['sink', String(upstream.bulk), String(proxyPort), String(SECONDS)]),
        ) as { bytesPerSecond: number }
      ).bytesPerSecond;
    const rounds = await everyRound([
      ['direct', bulk(0)],
      ...proxies.map(([name, port]) => [name, bulk(port)] as [string, () => Promise<number>]),
    ]);
    throughput = best(rounds, higher);
    // Beside the best figures, the median of each round's own ratio: a direct run the machine
    // happened to favour moves the first and not the second.
    throughputMedianRatio = Object.fromEntries(
      Object.entries(rounds).map(([name, values]) => [
        name,
        median(values.map((value, round) => value / rounds.direct![round]!)),
      ]),
    );
    for (const [name, value] of Object.entries(throughput)) {
      process.stdout.write(
        `  ${name.padEnd(10)} ${(value / 1e9).toFixed(2)} GB/s  ${((value / throughput.direct!) * 100).toFixed(0)}% of direct` +
          `  (median of the rounds' ratios ${(throughputMedianRatio[name]! * 100).toFixed(0)}%)\n`,
      );
    }
    if (!PRIVATE_NETNS && CONGESTION !== 'cubic') throughputWithCubic = repeatWithCubic();
  }

  if (PARTS.has('b')) {
    process.stdout.write(`(b) keep-alive request rate (best of ${ROUNDS})\n`);
    const httpTarget = `127.0.0.1:${upstream.http}`;
    absolute = await bestOf(
      [
        ['direct', () => wrk(`http://${httpTarget}/`)],
        ['paddock-l7', () => wrk(`http://127.0.0.1:${gateway.httpProxy}`, `l7.bench.test:${upstream.http}`)],
        ['paddock-plain', () => wrk(`http://127.0.0.1:${gateway.httpProxy}`, httpTarget)],
        ...peers.map(
          (peer) =>
            [peer.name, () => wrk(`http://127.0.0.1:${peer.port}`, httpTarget)] as [
              string,
              () => Promise<number>,
            ],
        ),
      ],
      higher,
    );
    const rate = (job: Record<string, unknown>) => async () =>
      (await load({ mode: 'rate', seconds: SECONDS, ...job })).requestsPerSecond!;
    tunnel = await bestOf(
      [
        ['direct', rate({ via: 'direct', target: local(upstream.http!) })],
        ...proxies.map(
          ([name, port]) =>
            [
              `${name}${name === 'paddock' ? '-l4' : ''}`,
              rate({ via: 'connect', proxyPort: port, target: local(upstream.http!) }),
            ] as [string, () => Promise<number>],
        ),
      ],
      higher,
    );
    tls = await bestOf(
      [
        [
          'direct',
          rate({
            via: 'direct',
            target: local(upstream.https!),
            tls: tlsJob('bench.upstream.test', upstreamCa),
          }),
        ],
        [
          'paddock-l4-tls',
          rate({
            via: 'connect',
            proxyPort: gateway.httpProxy,
            target: { host: 'l4.bench.test', port: upstream.https },
            tls: tlsJob('l4.bench.test', upstreamCa),
          }),
        ],
        [
          'paddock-l7-tls',
          rate({
            via: 'connect',
            proxyPort: gateway.httpProxy,
            target: { host: 'l7.bench.test', port: upstream.https },
            tls: tlsJob('l7.bench.test', workspaceCa),
          }),
        ],
        ...peers.map(
          (peer) =>
            [
              `${peer.name}-l4-tls`,
              rate({
                via: 'connect',
                proxyPort: peer.port,
                target: local(upstream.https!),
                tls: tlsJob('bench.upstream.test', upstreamCa),
              }),
            ] as [string, () => Promise<number>],
        ),
      ],
      higher,
    );
    for (const [label, table] of [
      ['absolute-form HTTP (wrk, 16 connections)', absolute],
      ['plain HTTP inside a CONNECT tunnel (16 connections; the gateway checks every Host)', tunnel],
      [
        'HTTPS inside a CONNECT tunnel (16 connections; paddock-l4-tls relays, paddock-l7-tls terminates and inspects)',
        tls,
      ],
    ] as const) {
      process.stdout.write(`  ${label}\n`);
      for (const [name, value] of Object.entries(table))
        process.stdout.write(`    ${name.padEnd(16)} ${round(value)} req/s\n`);
    }
  }

  if (PARTS.has('c')) {
    process.stdout.write(
      `(c) latency, sequential requests on one keep-alive connection (best of ${ROUNDS})\n`,
    );
    const measure = (job: Record<string, unknown>) => async (): Promise<Latency> => {
      const result = await load({ mode: 'latency', requests: 3000, ...job });
      return { p50Us: round(result.p50Us!), p99Us: round(result.p99Us!) };
    };
    latency = await bestOf<Latency>(
      [
        ['direct', measure({ via: 'direct', target: local(upstream.http!) })],
        [
          'paddock-l7',
          measure({
            via: 'absolute',
            proxyPort: gateway.httpProxy,
            target: { host: 'l7.bench.test', port: upstream.http },
          }),
        ],
        [
          'paddock-l4',
          measure({ via: 'connect', proxyPort: gateway.httpProxy, target: local(upstream.http!) }),
        ],
        // HTTPS in a tunnel: the gateway relays it (L4), as squid and tinyproxy relay theirs.
        [
          'direct-tls',
          measure({
            via: 'direct',
            target: local(upstream.https!),
            tls: tlsJob('bench.upstream.test', upstreamCa),
          }),
        ],
        [
          'paddock-l4-tls',
          measure({
            via: 'connect',
            proxyPort: gateway.httpProxy,
            target: { host: 'l4.bench.test', port: upstream.https },
            tls: tlsJob('l4.bench.test', upstreamCa),
          }),
        ],
        ...peers.flatMap((peer) => [
          [peer.name, measure({ via: 'absolute', proxyPort: peer.port, target: local(upstream.http!) })] as [
            string,
            () => Promise<Latency>,
          ],
          [
            `${peer.name}-l4`,
            measure({ via: 'connect', proxyPort: peer.port, target: local(upstream.http!) }),
          ] as [string, () => Promise<Latency>],
          [
            `${peer.name}-l4-tls`,
            measure({
              via: 'connect',
              proxyPort: peer.port,
              target: local(upstream.https!),
              tls: tlsJob('bench.upstream.test', upstreamCa),
            }),
          ] as [string, () => Promise<Latency>],
        ]),
      ],
      (a, b) => a.p50Us + a.p99Us < b.p50Us + b.p99Us,
    );
    for (const [name, value] of Object.entries(latency)) {
      // Each against the direct figure of its own protocol (TLS costs the same on every path).
      const base = name.endsWith('-tls') ? latency['direct-tls']! : latency.direct!;
      value.addedP50Us = value.p50Us - base.p50Us;
      value.addedP99Us = value.p99Us - base.p99Us;
      process.stdout.write(
        `  ${name.padEnd(14)} p50 ${value.p50Us} µs (+${value.addedP50Us})  p99 ${value.p99Us} µs (+${value.addedP99Us})\n`,
      );
    }
  }

  const targets = {
    tunnelAtLeast80PercentOfDirect: throughput && throughput.paddock! >= 0.8 * throughput.direct!,
    tunnelAtLeast80PercentOfDirectWithCubic: throughputWithCubic?.targets.tunnelAtLeast80PercentOfDirect,
    keepAliveL7AtLeastSquid: absolute && absolute['paddock-l7']! >= absolute.squid!,
    keepAliveL4AtLeastSquid: tls && tls['paddock-l4-tls']! >= tls['squid-l4-tls']!,
    addedLatencyAtMostSquid:
      latency &&
      latency['paddock-l7']!.addedP50Us! <= latency.squid!.addedP50Us! &&
      latency['paddock-l7']!.addedP99Us! <= latency.squid!.addedP99Us! &&
      latency['paddock-l4-tls']!.addedP50Us! <= latency['squid-l4-tls']!.addedP50Us! &&
      latency['paddock-l4-tls']!.addedP99Us! <= latency['squid-l4-tls']!.addedP99Us!,
  };
  process.stdout.write(`targets: ${JSON.stringify(targets)}\n`);
  mkdirSync(RESULTS, { recursive: true });
  const results = {
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    method: { rounds: ROUNDS, secondsPerRun: SECONDS, figure: 'best of the rounds, variants interleaved' },
    congestionControl: CONGESTION,
    throughputBytesPerSecond: throughput,
    throughputMedianRatioToDirect: throughputMedianRatio,
    throughputWithCubic: throughputWithCubic && {
      bytesPerSecond: throughputWithCubic.throughputBytesPerSecond,
      medianRatioToDirect: throughputWithCubic.throughputMedianRatioToDirect,
    },
    keepAliveRequestsPerSecond: { absoluteForm: absolute, connectTunnel: tunnel, httpsInTunnel: tls },
    latency,
    targets,
  };
  writeFileSync(join(RESULTS, `${RESULT_NAME}.json`), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`wrote bench/results/${RESULT_NAME}.json\n`);
} finally {
  for (const peer of peers) peer.stop();
  for (const child of children) child.kill('SIGTERM');
}
