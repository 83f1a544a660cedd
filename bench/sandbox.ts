// Sandbox start-up cost: `true` run to completion, 200 times per variant, beside a bare spawn
// of `true` from the same Node.js process (the peer). Variants:
//   bare             spawn('/bin/true'), the floor any launcher pays
//   sandbox          the full launcher (idmapped workspace, protected paths, seccomp, Landlock)
//                    in an empty network namespace
//   sandbox+pool     the same in a sandbox network taken from a pool prepared ahead of time,
//                    with its deny-all egress listener bound: what `paddock run` pays per sandbox
//                    when the supervisor keeps networks ready
//   sandbox+network  the same with a network built on the spot, while the sandbox is prepared
//   paddock-run      runSandbox, the engine of `paddock run`: fresh network, listener, drop
//                    counters read after the exit, and the network's teardown, all on the clock
//   paddock-run-detached  the same with the teardown handed to a detached process, as the
//                    `paddock run` CLI does: the clock stops once the audit events are done
// Each figure is start (the call) to the exit of `true`, so it includes everything before the
// exec and the sandbox's own exit. Except for paddock-run, teardown happens after the clock stops.
// Results: bench/results/sandbox.json.
import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareSandbox, runSandbox } from '../src/supervisor/index.ts';
import {
  createDenyListener,
  createSandboxNetwork,
  createSandboxNetworkPool,
  type SandboxNetworkPool,
  type SandboxNetwork,
} from '../src/supervisor/sandbox/network/index.ts';

const RUNS = Number(process.env.PADDOCK_BENCH_RUNS ?? 200);
const WARMUP = 10;
const RESULTS = fileURLToPath(new URL('results/', import.meta.url));

interface Sample {
  total: number;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

function bare(): Promise<Sample> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/true', [], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', () => resolve({ total: performance.now() - started }));
  });
}

const workdir = mkdtempSync(join(tmpdir(), 'pdk-bench-'));
chownSync(workdir, 4242, 4242);
mkdirSync(join(workdir, 'src'));
writeFileSync(join(workdir, 'src', 'main.c'), 'int main(void) { return 0; }\n');

const OPTIONS = {
  command: ['true'],
  workdir,
  dataScope: { read: [], write: ['/workspace'], deny: [] },
  stdio: ['ignore', 'inherit', 'inherit'],
} as const;

async function sandboxed(network?: () => Promise<SandboxNetwork>): Promise<Sample> {
  const started = performance.now();
  const building = network?.();
  const prepared = prepareSandbox({ ...OPTIONS, withNetwork: building !== undefined });
  const net = await building;
  const listener = net ? createDenyListener() : undefined;
  if (net) await listener!.listen(net);
  const sandbox = prepared.launch(net ? { netnsPath: net.netnsPath, env: net.env } : undefined);
  const exit = await sandbox.exited;
  const total = performance.now() - started;
  if (exit.exitCode !== 0)
    throw new Error(`sandboxed true exited ${exit.exitCode}: ${exit.error?.message ?? ''}`);
  await listener?.close();
  await net?.close();
  return { total };
}

/** A pool of two networks, once both are built. */
async function readyPool(): Promise<SandboxNetworkPool> {
  const created = createSandboxNetworkPool({ size: 2 });
  for (let i = 0; i < 500 && created.ready < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  return created;
}

async function measure(name: string, once: () => Promise<Sample>) {
  for (let i = 0; i < WARMUP; i++) await once();
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await once());
  const totals = samples.map((s) => s.total);
  return {
    name,
    runs: RUNS,
    medianMs: percentile(totals, 50),
    p95Ms: percentile(totals, 95),
  };
}

let pool: SandboxNetworkPool | undefined;
try {
  const results = [
    await measure('bare', bare),
    await measure('sandbox', () => sandboxed()),
    await measure('sandbox+pool', async () => {
      // Created here, not earlier: its background refills would slow the variants before it.
      pool ??= await readyPool();
      return sandboxed(() => pool!.acquire());
    }),
    await measure('sandbox+network', () => sandboxed(() => createSandboxNetwork())),
    await measure('paddock-run', async () => {
      const started = performance.now();
      const result = await runSandbox(OPTIONS);
      if (result.exitCode !== 0) throw new Error(`runSandbox true exited ${result.exitCode}`);
      return { total: performance.now() - started };
    }),
    await measure('paddock-run-detached', async () => {
      const started = performance.now();
      const result = await runSandbox({ ...OPTIONS, detachNetworkTeardown: true });
      if (result.exitCode !== 0) throw new Error(`runSandbox true exited ${result.exitCode}`);
      return { total: performance.now() - started };
    }),
  ];
  const floor = results[0]!;
  const f = (ms: number) => `${ms.toFixed(2).padStart(7)} ms`;
  for (const r of results) {
    const ratio = r === floor ? '' : `  median ${(r.medianMs / floor.medianMs).toFixed(1)}x bare`;
    process.stdout.write(`${r.name.padEnd(22)} median ${f(r.medianMs)}  p95 ${f(r.p95Ms)}${ratio}\n`);
  }
  const target = results.find((r) => r.name === 'sandbox+pool')!;
  process.stdout.write(
    `target: sandbox+pool median < 25 ms: ${target.medianMs < 25 ? 'met' : 'NOT met'} (${target.medianMs.toFixed(2)} ms)\n`,
  );
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(
    join(RESULTS, 'sandbox.json'),
    `${JSON.stringify({ date: new Date().toISOString(), runs: RUNS, results }, null, 2)}\n`,
  );
} finally {
  await pool?.close();
  rmSync(workdir, { recursive: true, force: true });
}
