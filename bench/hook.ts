// Hook latency: one hook process from spawn to exit (process start to answer), beside a bare
// `node -e 0` spawn from the same Node.js (the peer: the floor any Node.js hook pays) and a bare
// `/bin/true` (the floor of a native one). Variants, interleaved run by run so machine load hits
// them alike:
//   bare-node     node -e 0, with the same stdin
//   bare-exec     /bin/true, with the same stdin
//   node          `paddock hook claude-code` (client.js) against a hook server that allows in process
//   node+pdp      the same through the production chain: hook server → PDP socket → real PDP
//                 (coding-agent bundle), one audit event per decision
//   native+pdp    the native client (native/paddock-hook.c) through the production chain
//   server        the hook server alone: connect, send the request, read the answer (no spawn)
// Payload: a Claude Code PreToolUse for Bash `git status && npm test > /workspace/test.log 2>&1`.
// Target (issue 5): hook median under 30 ms. Results: bench/results/hook.json.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OcsfEvent } from '../src/audit/index.ts';
import { createDecisionPoint } from '../src/policy/index.ts';
import { createPdpClient, ensureHookClient, startHookServer } from '../src/supervisor/hooks/index.ts';
import { startPdpServer } from '../src/supervisor/pdp/index.ts';
import { exampleBundles } from '../test/policy/pdp-fixtures.ts';

const RUNS = Number(process.env.PADDOCK_BENCH_RUNS ?? 200);
const WARMUP = 10;
const RESULTS = fileURLToPath(new URL('results/', import.meta.url));
const ENTRY = fileURLToPath(new URL('../bin/paddock.js', import.meta.url));
const quiet = { error() {}, warn() {}, info() {}, debug() {} };

const PAYLOAD = JSON.stringify({
  session_id: 'bench',
  transcript_path: '/home/agent/.claude/projects/bench.jsonl',
  cwd: '/workspace',
  permission_mode: 'default',
  hook_event_name: 'PreToolUse',
  tool_name: 'Bash',
  tool_input: { command: 'git status && npm test > /workspace/test.log 2>&1', description: 'Run the tests' },
  tool_use_id: 'toolu_bench',
});

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
};

function spawnTimed(command: string, args: string[], expect: RegExp | null): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: {} });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0 || (expect && !expect.test(stdout)))
        reject(new Error(`${args.join(' ')}: exit ${code}, ${stdout}`));
      else resolve(ms);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(PAYLOAD);
  });
}

function serverTimed(socketPath: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let reply = '';
    socket.on('connect', () => socket.end(`PADDOCK-HOOK 1 claude-code\n${PAYLOAD}`));
    socket.on('data', (chunk) => (reply += chunk));
    socket.on('error', reject);
    socket.on('end', () =>
      reply.includes('"permissionDecision":"allow"')
        ? resolve(performance.now() - started)
        : reject(new Error(reply)),
    );
  });
}

const dir = mkdtempSync(join(tmpdir(), 'pdk-bench-hook-'));
const allowSocket = join(dir, 'allow.sock');
const hookSocket = join(dir, 'hook.sock');
const pdpSocket = join(dir, 'pdp.sock');
const events: OcsfEvent[] = [];
const example = (await exampleBundles()).get('coding-agent');
if (!example) throw new Error('examples/platform has no coding-agent blueprint');
const allow = await startHookServer({
  socketPath: allowSocket,
  decide: () => ({ decision: 'allow', policyIds: ['bench'], reason: 'command_allowed' }),
  logger: quiet,
});
const pdp = await startPdpServer({
  socketPath: pdpSocket,
  decisionPoint: createDecisionPoint(example.bundle),
  principal: { session: 'bench', user: 'bench@example.com', groups: [] },
  emit: (event) => {
    if (events.length < 1000) events.push(event);
  },
  audit: {
    workspaceId: 'bench',
    sessionId: 'bench',
    blueprint: { name: 'coding-agent', version: example.bundle.version },
  },
});
const client = createPdpClient({ socketPath: pdpSocket });
const hooks = await startHookServer({ socketPath: hookSocket, decide: client.decide, logger: quiet });

const ALLOWED = /"permissionDecision":"allow"/;
const native = ensureHookClient();
const node = process.execPath;
const variants: [string, () => Promise<number>][] = [
  ['bare-node', () => spawnTimed(node, ['-e', '0'], null)],
  ['bare-exec', () => spawnTimed('/bin/true', [], null)],
  ['node', () => spawnTimed(node, [ENTRY, 'hook', 'claude-code', '--socket', allowSocket], ALLOWED)],
  ['node+pdp', () => spawnTimed(node, [ENTRY, 'hook', 'claude-code', '--socket', hookSocket], ALLOWED)],
  ['native+pdp', () => spawnTimed(native, ['claude-code', '--socket', hookSocket], ALLOWED)],
  ['server', () => serverTimed(hookSocket)],
];

try {
  for (let i = 0; i < WARMUP; i += 1) for (const [, once] of variants) await once();
  const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let i = 0; i < RUNS; i += 1)
    for (const [name, once] of variants) samples.get(name)?.push(await once());
  const results = variants.map(([name]) => {
    const values = samples.get(name) ?? [];
    return {
      name,
      runs: values.length,
      medianMs: percentile(values, 50),
      p95Ms: percentile(values, 95),
      minMs: percentile(values, 0),
    };
  });
  const byName = (name: string) => results.find((r) => r.name === name) as (typeof results)[number];
  const peers: Record<string, string> = {
    node: 'bare-node',
    'node+pdp': 'bare-node',
    'native+pdp': 'bare-exec',
  };
  const f = (ms: number) => `${ms.toFixed(2).padStart(7)} ms`;
  for (const r of results) {
    const peer = peers[r.name] ? byName(peers[r.name] as string) : undefined;
    const vsPeer = peer
      ? `  ${(r.medianMs / peer.medianMs).toFixed(2)}x ${peer.name} (+${(r.medianMs - peer.medianMs).toFixed(2)} ms)`
      : '';
    process.stdout.write(
      `${r.name.padEnd(11)} median ${f(r.medianMs)}  p95 ${f(r.p95Ms)}  min ${f(r.minMs)}${vsPeer}\n`,
    );
  }
  for (const name of ['native+pdp', 'node+pdp']) {
    const r = byName(name);
    process.stdout.write(
      `target: ${name} median < 30 ms: ${r.medianMs < 30 ? 'met' : 'NOT met'} (${r.medianMs.toFixed(2)} ms)\n`,
    );
  }
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(
    join(RESULTS, 'hook.json'),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, runs: RUNS, payload: 'claude-code PreToolUse Bash', results }, null, 2)}\n`,
  );
} finally {
  await hooks.close();
  client.close();
  await pdp.close();
  await allow.close();
  rmSync(dir, { recursive: true, force: true });
}
