// Audit pipeline: central-store ingest and verification on SQLite and PostgreSQL.
//   ingest          Store.appendAuditEvents in batches of 500 (what a spool ships): each record's
//                   hash recomputed, chain links checked, idempotency by uid, a global sequence,
//                   search columns, one durable commit per batch (SQLite synchronous=FULL in WAL;
//                   PostgreSQL with fsync and synchronous_commit on)
//   peer-insert     the same rows INSERTed into a plain table with the same batches and commits,
//                   no hashing, no chain, no global sequence: the price of the chain is the ratio
//   peer-file       the same records appended to a JSON-lines file, one fdatasync per batch
//   spool-append    AuditSpool.append from 64 concurrent callers (group commit, fdatasync)
//   verify          verifyAuditStore over everything: every hash, every link, the global
//                   sequence and the signed checkpoints (one per 10,000 events) with their heads
// Each is printed per wall-clock second and per CPU-second of this process: on a machine shared
// with other work the second figure shows what the code costs, the first what it got.
// Events are real OCSF egress decisions (~1.3 KB) over 10 sources, chained as a spool chains them. Targets: ingest on SQLite
// >= 20,000 events/s, verify >= 200,000 events/s. Results: bench/results/audit.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  AuditSpool,
  type CheckpointSigner,
  egressDecisionEvent,
  GENESIS_HASH,
  openFileSigner,
  publicKeyFromPem,
} from '../src/audit/index.ts';
import { chainRecord } from '../src/audit/chain/record.ts';
import {
  AuditCheckpointer,
  type AuditEventRecord,
  openStore,
  type Store,
  verifyAuditStore,
} from '../src/controlplane/index.ts';
import { startPostgres } from '../test/support/postgres.ts';

const EVENTS = Number(process.env.PADDOCK_BENCH_EVENTS ?? 100_000);
const SOURCES = 10;
const BATCH = 500;
const RESULTS = fileURLToPath(new URL('results/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'paddock-bench-audit-'));

function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

/** Chained records, interleaved by source as supervisors would ship them. */
function makeRecords(): AuditEventRecord[][] {
  const perSource = Math.ceil(EVENTS / SOURCES);
  const chains: AuditEventRecord[][] = [];
  for (let s = 0; s < SOURCES; s++) {
    const source = `ws-bench-${s}`;
    let prev = GENESIS_HASH;
    const chain: AuditEventRecord[] = [];
    for (let seq = 1; seq <= perSource; seq++) {
      const event = egressDecisionEvent({
        workspaceId: source,
        sessionId: `as-${s}`,
        user: { uid: `sub-${s}`, name: `user${s}`, email: `user${s}@example.com`, groups: ['engineering'] },
        harness: 'claude-code',
        blueprint: { name: 'coding-agent', version: '1.0.0' },
        decision: seq % 3 === 0 ? 'deny' : 'allow',
        reasonCode: seq % 3 === 0 ? 'host_not_allowed' : 'host_allowed',
        bundle: { id: 'bundle-coding-agent', version: '42' },
        destination: { hostname: `api-${seq % 50}.example.com`, ip: '192.0.2.10', port: 443 },
        sourceIp: '10.0.0.2',
        connectionId: `conn-${s}-${seq}`,
      }) as unknown as Record<string, unknown>;
      // As a spool writes it (chainRecord) and as it arrives after the wire (a JSON round trip).
      const record = chainRecord(seq, 1_767_225_600_000 + seq, prev, event);
      chain.push({
        source,
        seq,
        uid: (event['metadata'] as { uid: string }).uid,
        classUid: 4001,
        time: record.time,
        event: JSON.parse(JSON.stringify(record.event)),
        prevHash: prev,
        hash: record.hash,
      });
      prev = record.hash;
    }
    chains.push(chain);
  }
  // Batches of BATCH from one source at a time, round-robin over sources.
  const batches: AuditEventRecord[][] = [];
  for (let offset = 0; offset < perSource; offset += BATCH)
    for (const chain of chains) batches.push(chain.slice(offset, offset + BATCH));
  return batches;
}

/** CPU milliseconds (user + system) this process spent since `since`: unlike wall time, not inflated by other load. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

let lastCpuMs = 0;

async function ingest(
  store: Store,
  batches: AuditEventRecord[][],
  checkpointer: AuditCheckpointer,
): Promise<number> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  let sinceCheckpoint = 0;
  for (const batch of batches) {
    await store.appendAuditEvents(batch);
    sinceCheckpoint += batch.length;
    if (sinceCheckpoint >= 10_000) {
      await checkpointer.checkpoint();
      sinceCheckpoint = 0;
    }
  }
  await checkpointer.checkpoint();
  lastCpuMs = cpuMs(cpu);
  return performance.now() - started;
}

type Exec = (sql: string, params?: unknown[]) => Promise<unknown>;

/** The peer: the same rows into a plain table, same batches, one commit each. */
async function peerInsert(
  exec: Exec,
  dialect: 'sqlite' | 'postgres',
  batches: AuditEventRecord[][],
): Promise<number> {
  await exec(
    'CREATE TABLE peer_events (source TEXT NOT NULL, seq BIGINT NOT NULL, uid TEXT NOT NULL UNIQUE, class_uid INTEGER NOT NULL, time BIGINT NOT NULL, event TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (source, seq))',
  );
  const started = performance.now();
  for (const batch of batches) {
    const rows = batch.map((r) => [
      r.source,
      r.seq,
      r.uid,
      r.classUid,
      r.time,
      JSON.stringify(r.event),
      r.prevHash,
      r.hash,
    ]);
    if (dialect === 'postgres') {
      await exec(
        `INSERT INTO peer_events SELECT * FROM json_to_recordset($1::json) AS r(source text, seq bigint, uid text, class_uid integer, time bigint, event text, prev_hash text, hash text)`,
        [
          JSON.stringify(
            rows.map(([source, seq, uid, class_uid, time, event, prev_hash, hash]) => ({
              source,
              seq,
              uid,
              class_uid,
              time,
              event,
              prev_hash,
              hash,
            })),
          ),
        ],
      );
    } else {
      await exec('BEGIN');
      for (const row of rows) await exec('INSERT INTO peer_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)', row);
      await exec('COMMIT');
    }
  }
  return performance.now() - started;
}

async function peerFile(batches: AuditEventRecord[][]): Promise<number> {
  const handle = await open(join(work, 'peer.jsonl'), 'a', 0o600);
  const started = performance.now();
  for (const batch of batches) {
    await handle.write(batch.map((r) => `${JSON.stringify(r)}\n`).join(''));
    await handle.datasync();
  }
  const ms = performance.now() - started;
  await handle.close();
  return ms;
}

async function spoolAppend(count: number): Promise<number> {
  const spool = await AuditSpool.open(join(work, 'spool'), { source: 'ws-spool' });
  const event = makeRecords()[0]?.[0]?.event as Record<string, unknown>;
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < count) {
        next += 1;
        await spool.append(event);
      }
    }),
  );
  const ms = performance.now() - started;
  await spool.close();
  return ms;
}

async function measureBackend(
  name: 'sqlite' | 'postgres',
  url: string,
  peerExec: Exec,
  batches: AuditEventRecord[][],
  signer: CheckpointSigner,
): Promise<Record<string, number>> {
  const store = await openStore({ url });
  const total = batches.reduce((n, b) => n + b.length, 0);
  const ingestMs = await ingest(store, batches, new AuditCheckpointer(store, signer));
  const ingestCpuMs = lastCpuMs;
  const keys = new Map([[signer.keyId, publicKeyFromPem(signer.publicKeyPem)]]);
  const verifyCpu = process.cpuUsage();
  const verifyStarted = performance.now();
  const verified = await verifyAuditStore(store, { publicKeys: keys });
  const verifyMs = performance.now() - verifyStarted;
  const verifyCpuMs = cpuMs(verifyCpu);
  if (!verified.ok || verified.events < total)
    throw new Error(
      `verification failed: ${JSON.stringify(verified.firstBadEvent ?? verified.firstBadCheckpoint)}`,
    );
  await store.close();
  const peerMs = await peerInsert(peerExec, name, batches);
  const result = {
    events: total,
    checkpoints: verified.checkpoints,
    ingestPerSec: rate(total, ingestMs),
    peerInsertPerSec: rate(total, peerMs),
    verifyPerSec: rate(total, verifyMs),
    // Per CPU-second of this process (PostgreSQL's own server CPU is not in it).
    ingestPerCpuSec: rate(total, ingestCpuMs),
    verifyPerCpuSec: rate(total, verifyCpuMs),
  };
  process.stdout.write(
    `${name.padEnd(8)} ingest ${result.ingestPerSec.toLocaleString('en')} events/s ` +
      `(peer plain INSERT ${result.peerInsertPerSec.toLocaleString('en')}/s, ratio ${(result.ingestPerSec / result.peerInsertPerSec).toFixed(2)}) · ` +
      `verify ${result.verifyPerSec.toLocaleString('en')} events/s (${verified.checkpoints} checkpoints) · ` +
      `per CPU-second: ingest ${result.ingestPerCpuSec.toLocaleString('en')}, verify ${result.verifyPerCpuSec.toLocaleString('en')}\n`,
  );
  return result;
}

try {
  const batches = makeRecords();
  const total = batches.reduce((n, b) => n + b.length, 0);
  const signer = openFileSigner(join(work, 'audit', 'checkpoint-key.pem'));
  process.stdout.write(
    `${total} events, ${SOURCES} sources, batches of ${BATCH}; load average ${loadavg()[0]?.toFixed(2)}\n`,
  );

  const fileMs = await peerFile(batches);
  const spoolMs = await spoolAppend(20_000);
  process.stdout.write(
    `peer-file  JSON lines + fdatasync per batch: ${rate(total, fileMs).toLocaleString('en')} events/s · ` +
      `spool-append (64 callers, group commit): ${rate(20_000, spoolMs).toLocaleString('en')} events/s\n`,
  );

  const { DatabaseSync } = await import('node:sqlite');
  const sqlitePath = join(work, 'controlplane.db');
  const sqliteUrl = `sqlite:${sqlitePath}`;
  let peerDb: InstanceType<typeof DatabaseSync> | undefined;
  // The peer gets what the store gets: the same durability and cache settings (sqlite-store.ts)
  // and each statement prepared once, so the ratio is the cost of the chain, not of tuning.
  const peerStatements = new Map<string, ReturnType<InstanceType<typeof DatabaseSync>['prepare']>>();
  const sqlitePeerExec: Exec = async (sql, params = []) => {
    if (!peerDb) {
      peerDb = new DatabaseSync(join(work, 'peer.db'));
      peerDb.exec('PRAGMA journal_mode = WAL');
      peerDb.exec('PRAGMA synchronous = FULL');
      peerDb.exec('PRAGMA cache_size = -16384');
      peerDb.exec('PRAGMA wal_autocheckpoint = 10000');
    }
    if (params.length === 0) {
      peerDb.exec(sql);
      return;
    }
    let statement = peerStatements.get(sql);
    if (!statement) {
      statement = peerDb.prepare(sql);
      peerStatements.set(sql, statement);
    }
    statement.run(...(params as never[]));
  };
  const sqlite = await measureBackend('sqlite', sqliteUrl, sqlitePeerExec, batches, signer);
  peerDb?.close();

  const cluster = await startPostgres({ durable: true, log: () => {} });
  let postgres: Record<string, number>;
  try {
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    await client.query('CREATE DATABASE peer');
    const peerUrl = new URL(cluster.url);
    peerUrl.pathname = '/peer';
    const peer = new pg.Client({ connectionString: peerUrl.toString() });
    await peer.connect();
    postgres = await measureBackend(
      'postgres',
      cluster.url,
      (sql, params) => peer.query(sql, params as unknown[]),
      batches,
      signer,
    );
    await peer.end();
    await client.end();
  } finally {
    await cluster.stop();
  }

  const results = {
    at: new Date().toISOString(),
    node: process.version,
    loadAverage: loadavg()[0],
    events: total,
    sources: SOURCES,
    batch: BATCH,
    peerFilePerSec: rate(total, fileMs),
    spoolAppendPerSec: rate(20_000, spoolMs),
    sqlite,
    postgres,
    targets: { sqliteIngestPerSec: 20_000, verifyPerSec: 200_000 },
  };
  writeFileSync(join(RESULTS, 'audit.json'), `${JSON.stringify(results, null, 2)}\n`);
  const ok = sqlite['ingestPerSec']! >= 20_000 && sqlite['verifyPerSec']! >= 200_000;
  process.stdout.write(
    `targets (sqlite ingest >= 20,000/s, verify >= 200,000/s): ${ok ? 'met' : 'NOT met'}\n`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
