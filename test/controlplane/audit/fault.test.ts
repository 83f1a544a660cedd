import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { openFileSigner, publicKeyFromPem } from '../../../src/audit/index.ts';
import { AuditCheckpointer, openStore, verifyAuditStore } from '../../../src/controlplane/index.ts';
import { postgresBackend, sqliteBackend } from '../store-backends.ts';
import type { StoreBackend } from '../store-suite.ts';

// Issue 7, item 5: kill -9 the control plane mid-stream and the supervisor mid-spool, restart
// both, and prove that every event reported durable arrives exactly once and everything
// verifies. Two real processes (fault-processes/) talk over a unix socket carrying the audit
// shipping protocol (a stand-in for the workspace channel, which carries the same messages).

const CHILD_DIR = new URL('./fault-processes/', import.meta.url);
const TOTAL = 1500;
const SOURCE = 'ws-fault';

interface Child {
  readonly process: ChildProcess;
  readonly lines: string[];
  waitFor(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();
after(() => {
  // A failed run must not leave its processes behind.
  for (const child of running) child.kill('SIGKILL');
});

function start(script: string, args: string[]): Child {
  const child = spawn(process.execPath, [new URL(script, CHILD_DIR).pathname, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PADDOCK_LOG: 'error' },
  });
  const lines: string[] = [];
  const waiters: { predicate: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return {
    process: child,
    lines,
    exited,
    waitFor(predicate, timeoutMs = 30_000) {
      const seen = lines.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `${script}: timed out; last lines: ${lines.slice(-5).join(' | ')}; stderr: ${stderr.slice(-2000)}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then((code) => {
          if (waiters.some((w) => w.predicate === predicate))
            reject(
              new Error(
                `${script} exited with ${code} before the awaited line; stderr: ${stderr.slice(-2000)}`,
              ),
            );
        });
      });
    },
  };
}

async function kill9(child: Child): Promise<void> {
  child.process.kill('SIGKILL');
  await child.exited;
}

const number = (prefix: string) => (line: string) =>
  line.startsWith(prefix) ? Number(line.split(' ')[1]) : 0;
const maxOf = (lines: string[], prefix: string) => Math.max(0, ...lines.map(number(prefix)));

function describeFaults(name: string, backend: StoreBackend): void {
  describe(`audit delivery under kill -9 (${name})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-audit-fault-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('loses nothing the spool reported durable and stores nothing twice', {
      timeout: 180_000,
    }, async () => {
      const url = await backend.freshUrl();
      const socket = join(dir, 'audit.sock');
      const spoolDir = join(dir, 'spool');
      const keyFile = join(dir, 'checkpoint-key.pem');
      const ingestArgs = [url, socket, SOURCE, keyFile];
      const shipperArgs = [spoolDir, socket, SOURCE, String(TOTAL)];

      let controlPlane = start('ingest-process.ts', ingestArgs);
      await controlPlane.waitFor((l) => l === 'ready');
      let supervisor = start('shipper-process.ts', shipperArgs);
      // Kill the control plane while batches are flowing.
      await supervisor.waitFor((l) => number('acked ')(l) >= 200);
      await kill9(controlPlane);
      // The supervisor keeps appending (durably) while the control plane is gone.
      const ackedBeforeOutage = maxOf(supervisor.lines, 'acked ');
      await supervisor.waitFor((l) => number('durable ')(l) >= ackedBeforeOutage + 200);
      controlPlane = start('ingest-process.ts', ingestArgs);
      await controlPlane.waitFor((l) => l === 'ready');
      // Kill the supervisor in the middle of appending.
      await supervisor.waitFor((l) => number('durable ')(l) >= 900);
      await kill9(supervisor);
      const durableBeforeKill = maxOf(supervisor.lines, 'durable ');
      const firstRun = supervisor.lines;
      supervisor = start('shipper-process.ts', shipperArgs);
      const opened = number('opened ')(await supervisor.waitFor((l) => l.startsWith('opened ')));
      assert.ok(
        opened >= durableBeforeKill,
        `spool reopened at ${opened}, but ${durableBeforeKill} was reported durable`,
      );
      const finalSeq = number('done ')(await supervisor.waitFor((l) => l.startsWith('done '), 120_000));
      const durableUids = new Set(
        [...firstRun, ...supervisor.lines]
          .filter((l) => l.startsWith('durable '))
          .map((l) => l.split(' ')[2] as string),
      );
      assert.equal(await supervisor.exited, 0);
      // A final checkpoint by a graceful stop.
      controlPlane.process.kill('SIGTERM');
      assert.equal(await controlPlane.exited, 0);

      const store = await openStore({ url });
      try {
        const stored = [];
        for (let afterSeq = 0; ; ) {
          const page = await store.readAuditEvents({ source: SOURCE, afterSeq, limit: 1000 });
          if (page.length === 0) break;
          stored.push(...page);
          afterSeq = page.at(-1)?.seq as number;
        }
        // The store holds the spool's whole chain (events and rotation records), each record once.
        assert.equal(stored.length, finalSeq, 'counts match: the store holds exactly the spool');
        assert.deepEqual(
          stored.map((e) => e.seq),
          Array.from({ length: finalSeq }, (_, i) => i + 1),
        );
        assert.equal(new Set(stored.map((e) => e.uid)).size, stored.length, 'no duplicate uid');
        const storedUids = new Set(stored.map((e) => e.uid));
        const lost = [...durableUids].filter((uid) => !storedUids.has(uid));
        assert.deepEqual(lost, [], 'every event reported durable arrived');
        assert.ok(durableUids.size > 1000, `only ${durableUids.size} events were reported durable`);
        assert.ok(
          stored.some(
            (e) =>
              (e.event as { metadata: { event_code: string } }).metadata.event_code === 'audit.spool_rotated',
          ),
          'the spool rotated during the run, and its rotation records arrived too',
        );
        const signer = openFileSigner(keyFile);
        await new AuditCheckpointer(store, signer).checkpoint();
        const result = await verifyAuditStore(store, {
          publicKeys: new Map([[signer.keyId, publicKeyFromPem(signer.publicKeyPem)]]),
        });
        assert.equal(result.ok, true, JSON.stringify(result.firstBadEvent ?? result.firstBadCheckpoint));
        const head = result.heads.find((h) => h.source === SOURCE);
        const controlPlaneEvents = result.heads.find((h) => h.source === 'controlplane')?.seq ?? 0;
        assert.equal(head?.seq, finalSeq);
        assert.equal(result.events, finalSeq + controlPlaneEvents, 'every stored event verified');
        assert.ok(
          result.checkpoints >= 2,
          `expected checkpoints from both control-plane runs, got ${result.checkpoints}`,
        );
      } finally {
        await store.close();
      }
    });
  });
}

describeFaults('sqlite', sqliteBackend());
describeFaults('postgres', postgresBackend());
