// Benchmark of the sandbox network plumbing (issue 3, item 9's network half). Not a test.
//
//   node bench/sandbox-network.ts [RUNS]     default 200 runs of each measurement
//
// Measured in one run, interleaved so that every figure sees the same machine load:
//   bare        `ip netns add` + `ip netns del` (the peer: the least any namespace costs)
//   create      createSandboxNetwork(): namespace, veth, addresses, IPv6 off, nft ruleset
//   close       network.close(), until the veth is gone
//   listen      the deny listener's four sockets bound and closed again
//   acquire     a pooled network handed out (the pool refilled in between, as between sandboxes)
// Prints median and p95 of each, the ratios to bare, and writes JSON to bench/results/.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createDenyListener,
  createSandboxNetwork,
  createSandboxNetworkPool,
  sweepStaleSandboxNetworks,
} from '../src/supervisor/sandbox/network/index.ts';

export interface Stats {
  readonly median: number;
  readonly p95: number;
  readonly min: number;
  readonly runs: number;
}

export interface SandboxNetworkBench {
  readonly runs: number;
  readonly machine: { readonly cpus: number; readonly model: string; readonly node: string };
  readonly ms: Readonly<Record<'bare' | 'create' | 'close' | 'createClose' | 'listen' | 'acquire', Stats>>;
  readonly ratios: {
    readonly createToBare: number;
    readonly createCloseToBare: number;
    readonly acquireToBare: number;
  };
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const round = (value: number) => Math.round(value * 1000) / 1000;
  return { median: round(at(0.5)), p95: round(at(0.95)), min: round(sorted[0]!), runs: sorted.length };
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')}: exit ${code}`)),
    );
  });
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

/** Runs the benchmark; `runs` samples of each measurement. */
export async function benchSandboxNetwork(runs = 200): Promise<SandboxNetworkBench> {
  await sweepStaleSandboxNetworks();
  const samples = {
    bare: [] as number[],
    create: [] as number[],
    close: [] as number[],
    createClose: [] as number[],
  };
  const listenSamples: number[] = [];
  // Warm-up: loads modules, the host table and the kernel's nf_tables/veth code paths.
  await (await createSandboxNetwork()).close();
  const bareName = `pdkbench-${process.pid}`;
  for (let i = 0; i < runs; i++) {
    samples.bare.push(
      await timed(async () => {
        await run('ip', ['netns', 'add', bareName]);
        await run('ip', ['netns', 'del', bareName]);
      }),
    );
    let network = await createSandboxNetwork();
    const created = performance.now();
    await network.close();
    const closed = performance.now();
    samples.close.push(closed - created);
    const createMs = await timed(async () => {
      network = await createSandboxNetwork();
    });
    samples.create.push(createMs);
    const listener = createDenyListener();
    listenSamples.push(await timed(() => listener.listen(network).then(() => listener.close())));
    samples.createClose.push(createMs + (await timed(() => network.close())));
  }

  const acquireSamples: number[] = [];
  const pool = createSandboxNetworkPool({ size: 2 });
  try {
    for (let i = 0; i < runs; i++) {
      while (pool.ready < 2) await sleep(2);
      let network: Awaited<ReturnType<typeof pool.acquire>> | undefined;
      acquireSamples.push(
        await timed(async () => {
          network = await pool.acquire();
        }),
      );
      await network!.close();
    }
  } finally {
    await pool.close();
  }

  const ms = {
    bare: stats(samples.bare),
    create: stats(samples.create),
    close: stats(samples.close),
    createClose: stats(samples.createClose),
    listen: stats(listenSamples),
    acquire: stats(acquireSamples),
  };
  const ratio = (a: number, b: number) => Number((a / b).toPrecision(3));
  return {
    runs,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
    ms,
    ratios: {
      createToBare: ratio(ms.create.median, ms.bare.median),
      createCloseToBare: ratio(ms.createClose.median, ms.bare.median),
      acquireToBare: ratio(ms.acquire.median, ms.bare.median),
    },
  };
}

/** One line per measurement, for the terminal. */
export function formatSandboxNetworkBench(result: SandboxNetworkBench): string {
  const line = (name: string, s: Stats, note: string) =>
    `${name.padEnd(13)} median ${s.median.toFixed(2).padStart(7)} ms   p95 ${s.p95.toFixed(2).padStart(7)} ms   ${note}`;
  const { ms, ratios } = result;
  return [
    `sandbox network, ${result.runs} runs each (${result.machine.cpus} CPUs, Node ${result.machine.node})`,
    line('bare netns', ms.bare, 'ip netns add + del (peer)'),
    line('create', ms.create, `${ratios.createToBare}x bare`),
    line('close', ms.close, ''),
    line('create+close', ms.createClose, `${ratios.createCloseToBare}x bare`),
    line('listen+close', ms.listen, 'deny listener, four sockets'),
    line('pool acquire', ms.acquire, `${ratios.acquireToBare}x bare`),
  ].join('\n');
}

if (import.meta.main) {
  const runs = Number(process.argv[2] ?? 200);
  const result = await benchSandboxNetwork(runs);
  const directory = new URL('./results/', import.meta.url);
  mkdirSync(directory, { recursive: true });
  const file = new URL(`sandbox-network-${new Date().toISOString().replaceAll(':', '-')}.json`, directory);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${formatSandboxNetworkBench(result)}\n`);
  process.stderr.write(`wrote ${file.pathname}\n`);
}
