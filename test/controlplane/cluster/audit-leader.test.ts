import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { auditSystemEvent, keyIdOf, publicKeyFromPem } from '../../../src/audit/index.ts';
import { AuditCheckpointer } from '../../../src/controlplane/audit/checkpointer.ts';
import { SINKS_FEED } from '../../../src/controlplane/audit/sink-feeder.ts';
import { verifyAuditStore } from '../../../src/controlplane/audit/verify-store.ts';
import { AUDIT_ELECTION, openClusterAuditSigner } from '../../../src/controlplane/cluster/audit-leader.ts';
import { claimFencedStep } from '../../../src/controlplane/cluster/index.ts';
import { openStore } from '../../../src/controlplane/store/open-store.ts';
import type { Store } from '../../../src/controlplane/store/store.ts';
import { createDatabase, dropDatabase, useTestPostgres } from '../../support/postgres.ts';

// Two replicas' audit halves (AuditLeader, as `paddock serve` wires it) as separate processes
// against one real PostgreSQL, each with a real JSONL sink under its own data directory: only
// the leader of the `audit` election feeds its sink and signs checkpoints; after kill -9 of the
// leader the other takes over from the cursor in the store, so the two sink files together hold
// every stored event, each file in global order, repeats only across the failover (counted);
// every checkpoint, whoever signed it, verifies with the one public key, and each was claimed
// under its signer's term. A deposed leader's checkpoint is refused. On SIGTERM the leader
// flushes and saves before giving up the lock, so its successor repeats nothing. `paddock serve`
// without the key file refuses to start.

const REPLICA = fileURLToPath(new URL('./audit-replica-process.ts', import.meta.url));
const PADDOCK = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));
const DESIRED_STATE = fileURLToPath(
  new URL('../../providers/kubevirt/fixtures/desired-state/', import.meta.url),
);
const FAILOVER_LIMIT_MS = 15_000;

type Json = Record<string, unknown>;

interface Replica {
  readonly name: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  readonly events: Json[];
  waitFor(predicate: (event: Json) => boolean, timeoutMs?: number): Promise<Json>;
}

function startReplica(url: string, name: string, dataDir: string, keyFile: string): Replica {
  const child = spawn(process.execPath, [REPLICA, url, name, dataDir, keyFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PADDOCK_LOG: 'warn' },
  });
  const events: Json[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    events.push(JSON.parse(line) as Json);
    for (const wake of waiters) wake();
  });
  return {
    name,
    dataDir,
    child,
    events,
    waitFor(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(predicate);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${name}: timed out; events so far: ${JSON.stringify(events.slice(-5))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** The uids a replica's JSONL sink holds, in file order (a line torn by kill -9 is not delivered). */
function sinkUids(replica: Replica): string[] {
  const file = join(replica.dataDir, 'out.jsonl');
  if (!existsSync(file)) return [];
  const uids: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      uids.push((JSON.parse(line) as { metadata: { uid: string } }).metadata.uid);
    } catch {
      // the last line, cut by kill -9 mid-write
    }
  }
  return uids;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let counter = 0;
function events(n: number): Record<string, unknown>[] {
  return Array.from(
    { length: n },
    () =>
      auditSystemEvent({
        event: 'audit.exported',
        component: 'cli',
        resource: `export ${++counter}`,
      }) as unknown as Record<string, unknown>,
  );
}

describe('audit on a cluster: the `audit` leader feeds the sinks and signs checkpoints (two processes, one PostgreSQL)', () => {
  let server: Awaited<ReturnType<typeof useTestPostgres>>;
  let url: string;
  let work: string;
  let keyFile: string;
  let store: Store;
  const replicas: Replica[] = [];
  const query = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  /** Every stored event's uid, in global order. */
  const storedUids = async () => {
    const uids: string[] = [];
    for (let after = 0; ; ) {
      const page = await store.readAuditLog({ afterGseq: after, limit: 1000 });
      if (page.length === 0) return uids;
      uids.push(...page.map((entry) => entry.uid));
      after = page.at(-1)!.gseq;
    }
  };

  before(async () => {
    server = await useTestPostgres();
    url = await createDatabase(server.url, 'paddock_audit_leader');
    work = mkdtempSync(join(tmpdir(), 'paddock-audit-leader-'));
    // What the operator creates once and the chart mounts from a Secret on every replica.
    mkdirSync(join(work, 'secret'));
    keyFile = join(work, 'secret', 'checkpoint-key.pem');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(
      join(work, 'secret', 'checkpoint-key.pub.pem'),
      publicKey.export({ type: 'spki', format: 'pem' }),
    );
    store = await openStore({ url });
  });

  after(async () => {
    for (const replica of replicas) replica.child.kill('SIGKILL');
    await store?.close();
    if (url) await dropDatabase(url);
    await server?.release();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('one leader feeds its sink; after kill -9 the other continues from the stored cursor: every event, repeats only across the failover', async () => {
    const a = startReplica(url, 'replica-a', join(work, 'a'), keyFile);
    replicas.push(a);
    const leadingA = await a.waitFor((event) => event['event'] === 'leading');
    const b = startReplica(url, 'replica-b', join(work, 'b'), keyFile);
    replicas.push(b);
    await b.waitFor((event) => event['event'] === 'ready');

    // Events stored by anyone (here: this process, as the CLI or another replica would) reach
    // the leader's sink, and only it.
    await store.appendChainedAuditEvents('controlplane', events(100));
    await until('the leader delivered the first events', async () =>
      sinkUids(a).length >= 100 ? true : undefined,
    );
    await until('a checkpoint from the first leader', async () =>
      (await store.listAuditCheckpoints({})).length > 0 ? true : undefined,
    );
    assert.deepEqual(sinkUids(b), [], 'the standby feeds nothing');
    assert.equal(b.events.filter((event) => event['event'] === 'leading').length, 0, 'one leader');

    // Kill the leader mid-stream: events keep arriving while it dies and while the other takes over.
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await store.appendChainedAuditEvents('controlplane', events(5));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await until('the leader is mid-stream', async () => (sinkUids(a).length >= 300 ? true : undefined));
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    const [cursorAtKill] = await query<{ gseq: string }>(
      'SELECT gseq FROM audit_sink_cursors WHERE feed = $1',
      [SINKS_FEED],
    );
    const leadingB = await b.waitFor((event) => event['event'] === 'leading', FAILOVER_LIMIT_MS + 5000);
    const failoverMs = Number(leadingB['at']) - killedAt;
    process.stdout.write(
      `# audit failover: replica-b leads the audit election ${failoverMs} ms after kill -9\n`,
    );
    assert.ok(failoverMs < FAILOVER_LIMIT_MS, `failover took ${failoverMs} ms`);
    assert.ok(Number(leadingB['term']) > Number(leadingA['term']));
    await until('the new leader delivers', async () => (sinkUids(b).length >= 100 ? true : undefined));
    writing = false;
    await writer;

    // Everything stored (including the checkpoints' own events) ends up in the sinks.
    const stored = await until('every stored event in a sink', async () => {
      const all = await storedUids();
      const delivered = new Set([...sinkUids(a), ...sinkUids(b)]);
      return all.every((uid) => delivered.has(uid)) ? all : undefined;
    });
    const fromA = sinkUids(a);
    const fromB = sinkUids(b);
    // A's file is a prefix of the global order, B's file the rest from where the stored cursor
    // stood: each in order, nothing missing in between, nothing twice within one file.
    assert.deepEqual(fromA, stored.slice(0, fromA.length), 'the first leader: a prefix, in global order');
    const resumedAt = stored.indexOf(fromB[0]!);
    assert.deepEqual(fromB, stored.slice(resumedAt, resumedAt + fromB.length), 'the second: in global order');
    assert.ok(resumedAt <= fromA.length, 'no event between the two leaders was skipped');
    // Read before the new leader could deliver and save anything: where the old one stopped.
    assert.equal(
      resumedAt,
      Number(cursorAtKill?.gseq ?? 0),
      'the new leader started at the cursor the old one saved',
    );
    const repeated = fromA.filter((uid) => new Set(fromB).has(uid));
    assert.deepEqual(repeated, stored.slice(resumedAt, fromA.length), 'repeats only across the failover');
    process.stdout.write(
      `# audit failover: ${stored.length} events, ${repeated.length} delivered twice (at-least-once across the failover)\n`,
    );

    // Checkpoints: written on both sides of the failover, each claimed under its signer's term,
    // and all verifying with the one public key of the Secret.
    await until('a checkpoint from the new leader', async () => {
      const runs = await query<{ holder: string }>(
        "SELECT holder FROM paddock_fenced_runs WHERE election = $1 AND step LIKE 'checkpoint %'",
        [AUDIT_ELECTION],
      );
      return runs.some((run) => run.holder === 'replica-b') ? true : undefined;
    });
    const publicKey = publicKeyFromPem(readFileSync(join(work, 'secret', 'checkpoint-key.pub.pem'), 'utf8'));
    const checkpoints = await store.listAuditCheckpoints({});
    assert.ok(checkpoints.every((checkpoint) => checkpoint.keyId === keyIdOf(publicKey)));
    const runs = await query<{ term: string; holder: string; step: string }>(
      'SELECT term, holder, step FROM paddock_fenced_runs WHERE election = $1 ORDER BY id',
      [AUDIT_ELECTION],
    );
    for (const checkpoint of checkpoints) {
      const claims = runs.filter((run) => run.step === `checkpoint ${checkpoint.index}`);
      assert.ok(claims.length >= 1, `checkpoint ${checkpoint.index} was claimed`);
      for (const claim of claims)
        assert.equal(
          Number(claim.term),
          claim.holder === 'replica-a' ? Number(leadingA['term']) : Number(leadingB['term']),
        );
    }
    const indexes = (holder: string) =>
      runs.filter((run) => run.holder === holder).map((run) => Number(run.step.split(' ')[1]));
    assert.ok(
      Math.max(...indexes('replica-a')) <= Math.min(...indexes('replica-b')),
      'the old leader never checkpoints after the new one',
    );
    const verified = await verifyAuditStore(store, {
      publicKeys: new Map([[keyIdOf(publicKey), publicKey]]),
    });
    assert.equal(verified.ok, true, JSON.stringify(verified));
    // The live leader may have written more since they were listed.
    assert.ok(verified.checkpoints >= checkpoints.length && checkpoints.length >= 2);
  });

  it('a deposed leader cannot store a checkpoint: its claim under the old term is refused and nothing is written', async () => {
    const [current] = await query<{ term: string }>(
      'SELECT term FROM paddock_leader_terms WHERE election = $1',
      [AUDIT_ELECTION],
    );
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const stale = { election: AUDIT_ELECTION, term: Number(current?.term) - 1, holder: 'replica-a' };
      const deposed = new AuditCheckpointer(store, openClusterAuditSigner(keyFile), {
        claim: (checkpoint) => claimFencedStep(pool, stale, `checkpoint ${checkpoint.index}`),
      });
      const claimsUnder = async (term: number) =>
        Number(
          (
            await query<{ n: string }>(
              'SELECT count(*) AS n FROM paddock_fenced_runs WHERE election = $1 AND term = $2',
              [AUDIT_ELECTION, term],
            )
          )[0]?.n,
        );
      const claimedBefore = await claimsUnder(stale.term);
      await store.appendChainedAuditEvents('controlplane', events(3));
      await assert.rejects(deposed.checkpoint(), { code: 'PDK_CLUSTER_NOT_LEADER' });
      assert.equal(await claimsUnder(stale.term), claimedBefore, 'nothing claimed under the old term');
      // The live leader's checkpoints carry on; the chain (whoever wrote it) still verifies.
      const publicKey = publicKeyFromPem(
        readFileSync(join(work, 'secret', 'checkpoint-key.pub.pem'), 'utf8'),
      );
      const verified = await verifyAuditStore(store, {
        publicKeys: new Map([[keyIdOf(publicKey), publicKey]]),
      });
      assert.equal(verified.ok, true, JSON.stringify(verified));
    } finally {
      await pool.end();
    }
  });

  it('SIGTERM of the leader: it flushes, saves the cursor and hands over; the next leader repeats nothing', async () => {
    const b = replicas.find((replica) => replica.name === 'replica-b');
    assert.ok(b && b.child.exitCode === null);
    const c = startReplica(url, 'replica-c', join(work, 'c'), keyFile);
    replicas.push(c);
    await c.waitFor((event) => event['event'] === 'ready');
    await store.appendChainedAuditEvents('controlplane', events(20));
    const stored = await storedUids();
    await until('the leader delivered them', async () =>
      sinkUids(b).includes(stored.at(-1)!) ? true : undefined,
    );
    const exited = new Promise<number | null>((resolve) => b.child.once('exit', resolve));
    b.child.kill('SIGTERM');
    assert.equal(await exited, 0);
    await c.waitFor((event) => event['event'] === 'leading', FAILOVER_LIMIT_MS);
    await store.appendChainedAuditEvents('controlplane', events(20));
    const all = await until('every event in a sink', async () => {
      const uids = await storedUids();
      const delivered = new Set(replicas.flatMap(sinkUids));
      return uids.every((uid) => delivered.has(uid)) ? uids : undefined;
    });
    const fromB = new Set(sinkUids(b));
    const fromC = sinkUids(c);
    assert.deepEqual(
      fromC.filter((uid) => fromB.has(uid)),
      [],
      'a handover on SIGTERM repeats nothing',
    );
    assert.deepEqual(
      fromC,
      all.slice(all.length - fromC.length),
      'the next leader continues in global order',
    );
    const [cursor] = await query<{ gseq: string }>('SELECT gseq FROM audit_sink_cursors WHERE feed = $1', [
      SINKS_FEED,
    ]);
    assert.ok(Number(cursor?.gseq) >= all.length - fromC.length);
  });

  it('paddock serve without the checkpoint key file, or with one others can read, refuses to start (no per-replica key)', async () => {
    const serve = async (key: string) => {
      const child = spawn(
        process.execPath,
        [PADDOCK, 'serve', '--host', '127.0.0.1', '--port', '0', '--audit-key', key],
        {
          env: {
            ...process.env,
            PADDOCK_DATABASE_URL: url,
            PADDOCK_CONFIG: DESIRED_STATE,
            PADDOCK_DATA_DIR: join(work, 'serve'),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      return { code, stderr };
    };
    const missing = join(work, 'nowhere', 'checkpoint-key.pem');
    const refused = await serve(missing);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /PDK_SERVE_AUDIT_KEY/);
    assert.match(refused.stderr, /checkpoint-key\.pem does not exist/);
    assert.ok(!existsSync(missing), 'no key was generated');

    const loose = join(work, 'loose.pem');
    writeFileSync(loose, readFileSync(keyFile));
    chmodSync(loose, 0o644);
    const open = await serve(loose);
    assert.notEqual(open.code, 0);
    assert.match(open.stderr, /PDK_AUDIT_KEY/);
    assert.match(open.stderr, /mode 644/);
  });
});
