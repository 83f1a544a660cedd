// Access broker relay latency: 200 concurrent terminal sessions, each a real WebSocket client of
// a real broker (its own process, bench/broker/server.ts) relaying to a real `cat` on a real
// pty, recorded as in production. Each session types like a fast typist (one key, wait for its
// echo, think ~100 ms, next key); the figure is keystroke to echo on the client. The peer, in
// the same run: the same keystrokes written straight to 200 bare ptys running `cat` from this
// process (no broker, no WebSocket), which is the floor any terminal pays. The 200 shells are
// bare ptys, not sandboxes: a sandboxed shell adds nothing per keystroke (the bytes go through
// the same pty), and 200 sandbox launches (each a launcher process, bwrap and a trampoline)
// would take the benchmark far past its minute. A third variant checks that claim with fewer
// sessions: `cat` inside a real agent sandbox per terminal, through the same broker.
// Target (issue 6): broker p99 under 25 ms. Results: bench/results/broker.json.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { spawnPtyTerminal } from '../test/controlplane/broker/support/pty-terminal.ts';

const SESSIONS = Number(process.env.PADDOCK_BENCH_SESSIONS ?? 200);
const SANDBOXED_SESSIONS = Number(process.env.PADDOCK_BENCH_SANDBOXED ?? 20);
const PHASE_MS = Number(process.env.PADDOCK_BENCH_PHASE_MS ?? 12_000);
const THINK_MS = 100;
const RESULTS = fileURLToPath(new URL('results/', import.meta.url));
const SERVER = fileURLToPath(new URL('broker/server.ts', import.meta.url));
const TOKEN = 'bench-token';
const KEYS = 'abcdefghijklmnopqrstuvwxyz';

/** One terminal as the typing loop sees it. */
interface Session {
  send(key: string): void;
  onData(listener: (text: string) => void): void;
  close(): void;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;

/** Types into every session until `durationMs` has passed; returns every keystroke's echo latency. */
async function typeInto(sessions: Session[], durationMs: number): Promise<number[]> {
  const samples: number[] = [];
  const deadline = performance.now() + durationMs;
  await Promise.all(
    sessions.map(async (session, index) => {
      let waiting: { key: string; sentAt: number; done: () => void } | undefined;
      session.onData((text) => {
        if (waiting && text.includes(waiting.key)) {
          samples.push(performance.now() - waiting.sentAt);
          const { done } = waiting;
          waiting = undefined;
          done();
        }
      });
      // Spread the sessions' first keys over one think time, as independent typists would.
      await new Promise((resolve) => setTimeout(resolve, (index * THINK_MS) / sessions.length));
      let n = index;
      while (performance.now() < deadline) {
        const key = KEYS[n++ % KEYS.length] as string;
        await new Promise<void>((done) => {
          waiting = { key, sentAt: performance.now(), done };
          session.send(key);
        });
        // Erase it again so the line never grows (the tty echoes ^H as "\b \b").
        session.send('\x7f');
        await new Promise((resolve) => setTimeout(resolve, THINK_MS * (0.5 + Math.random())));
      }
    }),
  );
  return samples;
}

function summarize(name: string, sessions: number, samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    name,
    sessions,
    keystrokes: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? Number.NaN,
  };
}

function barePtys(): Session[] {
  return Array.from({ length: SESSIONS }, () => {
    const pty = spawnPtyTerminal('/bin/cat', [], {
      cols: 80,
      rows: 24,
      env: { TERM: 'xterm-256color', PATH: '/usr/bin:/bin' },
    });
    return {
      send: (key) => pty.write(key),
      onData: (listener) => pty.onData((data) => listener(Buffer.from(data).toString('latin1'))),
      close: () => pty.close(),
    };
  });
}

async function brokerClients(port: number, workspace: string, count: number): Promise<Session[]> {
  const connectOne = async (): Promise<Session> => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/workspaces/${workspace}/terminal?cols=80&rows=24`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      perMessageDeflate: false,
    });
    await once(ws, 'open');
    ws.setMaxListeners(0);
    return {
      send: (key) => ws.send(Buffer.from(key), { binary: true }),
      onData: (listener) =>
        ws.on('message', (data, isBinary) => {
          if (isBinary) listener(Buffer.from(data as Buffer).toString('latin1'));
        }),
      close: () => ws.close(),
    };
  };
  const sessions: Session[] = [];
  // In batches, so 200 handshakes do not all queue behind 200 pty spawns.
  for (let i = 0; i < count; i += 20) {
    sessions.push(...(await Promise.all(Array.from({ length: Math.min(20, count - i) }, connectOne))));
  }
  return sessions;
}

const server = spawn(process.execPath, [SERVER, TOKEN], { stdio: ['pipe', 'pipe', 'inherit'] });
try {
  const [line] = (await once(server.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());

  const started = performance.now();
  const bare = barePtys();
  await typeInto(bare, 1500); // warm-up
  const peer = summarize('bare-pty', SESSIONS, await typeInto(bare, PHASE_MS));
  for (const session of bare) session.close();

  const clients = await brokerClients(port, 'ws-bench', SESSIONS);
  await typeInto(clients, 1500); // warm-up
  const relayed = summarize('broker', SESSIONS, await typeInto(clients, PHASE_MS));
  for (const session of clients) session.close();
  await new Promise((resolve) => setTimeout(resolve, 1000)); // let 200 ptys hang up and recordings seal

  const results = [peer, relayed];
  if (SANDBOXED_SESSIONS > 0) {
    const sandboxed = await brokerClients(port, 'ws-sandbox', SANDBOXED_SESSIONS);
    // Warm-up: each attach starts a sandbox (a trampoline process, the launcher, bwrap); let them settle.
    await typeInto(sandboxed, 4000);
    results.push(summarize('broker+sandbox', SANDBOXED_SESSIONS, await typeInto(sandboxed, PHASE_MS / 2)));
    for (const session of sandboxed) session.close();
  }
  const f = (ms: number) => `${ms.toFixed(2).padStart(7)} ms`;
  for (const r of results) {
    const ratio =
      r === peer
        ? ''
        : `  (p50 ${(r.p50Ms / peer.p50Ms).toFixed(1)}x, p99 ${(r.p99Ms / peer.p99Ms).toFixed(1)}x bare-pty)`;
    process.stdout.write(
      `${r.name.padEnd(14)} ${String(r.sessions).padStart(3)} sessions ${String(r.keystrokes).padStart(6)} keys  p50 ${f(r.p50Ms)}  p99 ${f(r.p99Ms)}  max ${f(r.maxMs)}${ratio}\n`,
    );
  }
  process.stdout.write(
    `target: broker p99 < 25 ms: ${relayed.p99Ms < 25 ? 'met' : 'NOT met'} (${relayed.p99Ms.toFixed(2)} ms)\n`,
  );
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(
    join(RESULTS, 'broker.json'),
    `${JSON.stringify({ date: new Date().toISOString(), sessions: SESSIONS, phaseMs: PHASE_MS, thinkMs: THINK_MS, wallMs: Math.round(performance.now() - started), results }, null, 2)}\n`,
  );
} finally {
  server.kill('SIGTERM');
}
