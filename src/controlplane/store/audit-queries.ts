import { canonicalJson, GENESIS_HASH, recordHashOfCanonical } from '../../audit/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { clampLimit } from './review-queries.ts';
import { AUDIT_COLUMNS, toAuditEvent } from './rows.ts';
import { rethrowAsStoreError, type SqlExecutor } from './sql-executor.ts';
import type { AuditAppendResult, AuditChainHead, AuditEventRecord, AuditReadOptions } from './store.ts';

// Audit ingest. Supervisors upload their spool in batches and retry after any failure, so an
// event at or below its source's head is skipped when it is the same event (same uid, seq and
// hash), and refused (with the whole batch) when it is not: a second event claiming a stored
// uid or (source, seq) is a forked or forged chain, which the store must not paper over.
// Events above the head must continue the chain: each record's hash is recomputed, seq runs
// on without a gap and prev names the record before. Each stored event gets the next global
// sequence number (gseq) under one lock (audit_state), so the global order is the commit
// order and a checkpoint's snapshot of heads is consistent with its gseq.

const DEFAULT_LIMIT = 1000;
const HEX64 = /^[0-9a-f]{64}$/;
const MAX_LIMIT = 10_000;

/** An event ready to insert: canonical text and search columns computed outside the lock. */
interface Prepared {
  readonly record: AuditEventRecord;
  readonly text: string;
  readonly eventCode: string | null;
  readonly workspaceId: string | null;
  readonly actorUser: string | null;
  readonly decision: string | null;
}

export async function appendAuditEvents(
  db: SqlExecutor,
  batch: readonly AuditEventRecord[],
  now: number,
): Promise<AuditAppendResult> {
  batch.forEach(checkEvent);
  if (batch.length === 0) return { inserted: 0, skipped: 0, heads: [] };
  const bySource = new Map<string, Prepared[]>();
  for (const record of batch) {
    const prepared = prepare(record);
    const list = bySource.get(record.source) ?? [];
    list.push(prepared);
    bySource.set(record.source, list);
  }
  for (const list of bySource.values()) list.sort((a, b) => a.record.seq - b.record.seq);
  return db.transaction(async (tx) => {
    let gseq = await lockGlobalSequence(tx);
    let inserted = 0;
    let skipped = 0;
    const heads: AuditChainHead[] = [];
    for (const [source, list] of bySource) {
      const head = await readHead(tx, source);
      const replayed = list.filter((p) => p.record.seq <= head.seq);
      const fresh = list.filter((p) => p.record.seq > head.seq);
      await checkReplayed(tx, source, replayed);
      skipped += replayed.length;
      checkContinues(source, head, fresh);
      if (fresh.length === 0) {
        if (head.seq > 0) heads.push({ source, ...head });
        continue;
      }
      await insertEvents(tx, fresh, gseq, now);
      gseq += fresh.length;
      inserted += fresh.length;
      const last = (fresh.at(-1) as Prepared).record;
      await tx.execute(
        head.seq === 0
          ? 'INSERT INTO audit_sources (seq, hash, gseq, source) VALUES (?, ?, ?, ?)'
          : 'UPDATE audit_sources SET seq = ?, hash = ?, gseq = ? WHERE source = ?',
        [last.seq, last.hash, gseq, source],
      );
      heads.push({ source, seq: last.seq, hash: last.hash });
    }
    await tx.execute('UPDATE audit_state SET gseq = ? WHERE id = 1', [gseq]);
    return { inserted, skipped, heads };
  });
}

/**
 * Appends events to a chain the store itself extends: seq, prev and hash are computed under
 * the ingest lock, so several writers (control-plane replicas, the CLI) share one source
 * without forking it. The commit is the durable write. Resolves to the stored records.
 */
export async function appendChainedEvents(
  db: SqlExecutor,
  source: string,
  events: readonly Record<string, unknown>[],
  now: number,
): Promise<AuditEventRecord[]> {
  if (events.length === 0) return [];
  const texts = events.map((event) => canonicalJson(event));
  return db.transaction(async (tx) => {
    const gseq = await lockGlobalSequence(tx);
    const head = await readHead(tx, source);
    let prev = head.seq === 0 ? GENESIS_HASH : head.hash;
    const prepared: Prepared[] = events.map((event, index) => {
      const seq = head.seq + index + 1;
      const text = texts[index] as string;
      const record: AuditEventRecord = {
        source,
        seq,
        uid: String((event['metadata'] as { uid?: unknown } | undefined)?.uid ?? ''),
        classUid: Number(event['class_uid']),
        time: now,
        event: JSON.parse(text),
        prevHash: prev,
        hash: recordHashOfCanonical(seq, now, prev, text),
      };
      checkEvent(record, index);
      prev = record.hash;
      return { record, text, ...searchColumns(event) };
    });
    await insertEvents(tx, prepared, gseq, now);
    const last = (prepared.at(-1) as Prepared).record;
    await tx.execute(
      head.seq === 0
        ? 'INSERT INTO audit_sources (seq, hash, gseq, source) VALUES (?, ?, ?, ?)'
        : 'UPDATE audit_sources SET seq = ?, hash = ?, gseq = ? WHERE source = ?',
      [last.seq, last.hash, gseq + prepared.length, source],
    );
    await tx.execute('UPDATE audit_state SET gseq = ? WHERE id = 1', [gseq + prepared.length]);
    return prepared.map((p) => p.record);
  });
}

export async function readAuditEvents(
  db: SqlExecutor,
  options: AuditReadOptions,
): Promise<AuditEventRecord[]> {
  const rows = await db.query(
    `SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE source = ? AND seq > ? ORDER BY seq LIMIT ?`,
    [options.source, afterSeq(options.afterSeq), clampLimit(options.limit, DEFAULT_LIMIT, MAX_LIMIT)],
  );
  return rows.map(toAuditEvent);
}

export async function lastAuditEvent(db: SqlExecutor, source: string): Promise<AuditEventRecord | undefined> {
  const rows = await db.query(
    `SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE source = ? ORDER BY seq DESC LIMIT 1`,
    [source],
  );
  return rows[0] && toAuditEvent(rows[0]);
}

/** Takes the ingest lock and returns the last global sequence number handed out. */
async function lockGlobalSequence(tx: SqlExecutor): Promise<number> {
  // SQLite's BEGIN IMMEDIATE already holds the write lock; PostgreSQL locks the one row.
  const sql =
    tx.dialect === 'postgres'
      ? 'SELECT gseq FROM audit_state WHERE id = 1 FOR UPDATE'
      : 'SELECT gseq FROM audit_state WHERE id = 1';
  const row = (await tx.query(sql))[0];
  if (!row) throw new PaddockError('PDK_INTERNAL', 'audit_state has no row: the 0003 migration did not run');
  return Number(row['gseq']);
}

async function readHead(tx: SqlExecutor, source: string): Promise<{ seq: number; hash: string }> {
  const row = (await tx.query('SELECT seq, hash FROM audit_sources WHERE source = ?', [source]))[0];
  return row ? { seq: Number(row['seq']), hash: String(row['hash']) } : { seq: 0, hash: GENESIS_HASH };
}

/** Replayed events must be exactly the stored ones. */
async function checkReplayed(tx: SqlExecutor, source: string, replayed: readonly Prepared[]): Promise<void> {
  if (replayed.length === 0) return;
  const first = (replayed[0] as Prepared).record.seq;
  const last = (replayed.at(-1) as Prepared).record.seq;
  const rows = await tx.query(
    'SELECT seq, uid, hash FROM audit_events WHERE source = ? AND seq >= ? AND seq <= ?',
    [source, first, last],
  );
  const stored = new Map(rows.map((row) => [Number(row['seq']), row]));
  for (const { record } of replayed) {
    const row = stored.get(record.seq);
    if (row?.['uid'] !== record.uid) {
      throw new PaddockError(
        'PDK_STORE_CONFLICT',
        `audit source ${source} already has a different event at seq ${record.seq} ` +
          `(uploaded uid ${record.uid}): the chain forked; nothing in this batch was stored`,
      );
    }
    if (row['hash'] !== record.hash) {
      throw new PaddockError(
        'PDK_STORE_CONFLICT',
        `audit event uid ${record.uid} is already stored with different content (source ${source} ` +
          `seq ${record.seq}): nothing in this batch was stored`,
      );
    }
  }
}

/** New events must continue the stored chain with no gap and matching links. */
function checkContinues(
  source: string,
  head: { seq: number; hash: string },
  fresh: readonly Prepared[],
): void {
  let seq = head.seq;
  let prev = head.hash;
  for (const { record } of fresh) {
    if (record.seq !== seq + 1) {
      throw new PaddockError(
        'PDK_STORE_CONFLICT',
        `audit source ${source} continues at seq ${seq + 1} but the batch has seq ${record.seq}: ` +
          'events are missing; resend from the acknowledged seq. Nothing in this batch was stored',
      );
    }
    if (record.prevHash !== prev) {
      throw new PaddockError(
        'PDK_STORE_CONFLICT',
        `audit event seq ${record.seq} of source ${source} does not link to seq ${seq} (prev differs): ` +
          'the chain forked; nothing in this batch was stored',
      );
    }
    seq = record.seq;
    prev = record.hash;
  }
}

const INSERT_COLUMNS =
  'gseq, source, seq, uid, class_uid, time, event, prev_hash, hash, received_at, event_code, workspace_id, actor_user, decision';
const POSTGRES_INSERT = `INSERT INTO audit_events (${INSERT_COLUMNS})
  SELECT gseq, source, seq, uid, class_uid, time, event, prev_hash, hash, ?, event_code, workspace_id, actor_user, decision
    FROM json_to_recordset(?::json) AS r(gseq bigint, source text, seq bigint, uid text, class_uid integer,
      time bigint, event text, prev_hash text, hash text, event_code text, workspace_id text,
      actor_user text, decision text)
  ON CONFLICT (uid) DO NOTHING`;
const SQLITE_INSERT = `INSERT INTO audit_events (${INSERT_COLUMNS}) VALUES (${INSERT_COLUMNS.replace(/\w+/g, '?')})
  ON CONFLICT (uid) DO NOTHING`;

/** Inserts the events under consecutive global sequence numbers after `gseq`; refuses the batch when a uid is taken. */
async function insertEvents(
  tx: SqlExecutor,
  events: readonly Prepared[],
  gseq: number,
  now: number,
): Promise<void> {
  if (tx.dialect === 'postgres') {
    // One statement per batch: a round trip per row would cap ingest at the network latency.
    const rows = events.map((p, index) => ({
      gseq: gseq + index + 1,
      source: p.record.source,
      seq: p.record.seq,
      uid: p.record.uid,
      class_uid: p.record.classUid,
      time: p.record.time,
      event: p.text,
      prev_hash: p.record.prevHash,
      hash: p.record.hash,
      event_code: p.eventCode,
      workspace_id: p.workspaceId,
      actor_user: p.actorUser,
      decision: p.decision,
    }));
    const inserted = await tx.execute(POSTGRES_INSERT, [now, JSON.stringify(rows)]);
    if (inserted < events.length) await refuseTakenUid(tx, events);
    return;
  }
  // One prepared statement per row: multi-row VALUES statements measured about 10% more CPU
  // per event here (node:sqlite 24, batches of 500), so they are not used.
  for (const [index, p] of events.entries()) {
    const inserted = await tx
      .execute(SQLITE_INSERT, [
        gseq + index + 1,
        p.record.source,
        p.record.seq,
        p.record.uid,
        p.record.classUid,
        p.record.time,
        p.text,
        p.record.prevHash,
        p.record.hash,
        now,
        p.eventCode,
        p.workspaceId,
        p.actorUser,
        p.decision,
      ])
      .catch((error) => rethrowAsStoreError(error));
    if (inserted === 0) await refuseTakenUid(tx, [p]);
  }
}

/**
 * Some of `events` were not inserted (ON CONFLICT (uid) DO NOTHING): their uid is stored under
 * another (source, seq), by an earlier batch or earlier in this one. Names the first; the
 * caller's transaction rolls the whole batch back.
 */
async function refuseTakenUid(tx: SqlExecutor, events: readonly Prepared[]): Promise<never> {
  for (const { record } of events) {
    const stored = (await tx.query('SELECT source, seq FROM audit_events WHERE uid = ?', [record.uid]))[0];
    if (stored && String(stored['source']) === record.source && Number(stored['seq']) === record.seq)
      continue;
    throw new PaddockError(
      'PDK_STORE_CONFLICT',
      `audit event uid ${record.uid} is already stored with different content (source ${String(stored?.['source'] ?? record.source)} ` +
        `seq ${String(stored?.['seq'] ?? record.seq)}): nothing in this batch was stored`,
    );
  }
  throw new PaddockError(
    'PDK_INTERNAL',
    'audit insert stored fewer events than given, yet every uid is in place',
  );
}

/** Canonical text, a verified hash and the search columns, before the lock is taken. */
function prepare(record: AuditEventRecord): Prepared {
  const text = canonicalJson(record.event);
  if (recordHashOfCanonical(record.seq, record.time, record.prevHash, text) !== record.hash) {
    throw new PaddockError(
      'PDK_AUDIT_CHAIN_BROKEN',
      `audit event seq ${record.seq} of source ${record.source} (uid ${record.uid}) does not match its hash: ` +
        'edited or corrupted in transit; nothing in this batch was stored',
    );
  }
  if (record.seq === 1 && record.prevHash !== GENESIS_HASH) {
    throw new PaddockError(
      'PDK_AUDIT_CHAIN_BROKEN',
      `audit event seq 1 of source ${record.source} does not start from the genesis hash: nothing in this batch was stored`,
    );
  }
  return { record, text, ...searchColumns(record.event as Record<string, unknown>) };
}

function searchColumns(event: Record<string, unknown>): Omit<Prepared, 'record' | 'text'> {
  const metadata = event['metadata'] as { event_code?: unknown } | undefined;
  const device = event['device'] as { uid?: unknown } | undefined;
  const user = (event['actor'] as { user?: { uid?: unknown; email_addr?: unknown } } | undefined)?.user;
  const actionId = event['action_id'];
  const decision =
    actionId === 1 ? 'allow' : actionId === 2 ? 'deny' : event['action'] === 'Review' ? 'review' : null;
  return {
    eventCode: typeof metadata?.event_code === 'string' ? metadata.event_code : null,
    workspaceId: typeof device?.uid === 'string' ? device.uid : null,
    actorUser:
      typeof user?.email_addr === 'string'
        ? user.email_addr
        : typeof user?.uid === 'string'
          ? user.uid
          : null,
    decision,
  };
}

function afterSeq(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? Math.max(0, Math.trunc(value)) : 0;
}

/** Rejects malformed events before any is written; they are a bug in the uploader, not a conflict. */
function checkEvent(event: AuditEventRecord, index: number): void {
  const problems: string[] = [];
  if (!event.source) problems.push('source is empty');
  if (!event.uid) problems.push('uid is empty');
  if (!(Number.isSafeInteger(event.seq) && event.seq >= 1))
    problems.push(`seq ${event.seq} is not an integer >= 1`);
  if (!Number.isSafeInteger(event.time)) problems.push(`time ${event.time} is not integer milliseconds`);
  if (!Number.isInteger(event.classUid)) problems.push(`classUid ${event.classUid} is not an integer`);
  if (!HEX64.test(event.prevHash)) problems.push('prevHash is not a SHA-256 hex digest');
  if (!HEX64.test(event.hash)) problems.push('hash is not a SHA-256 hex digest');
  if (typeof event.event !== 'object' || event.event === null || Array.isArray(event.event))
    problems.push('event is not a JSON object');
  if (problems.length > 0) {
    throw new PaddockError(
      'PDK_AUDIT_EVENT_INVALID',
      `audit event ${index} (uid ${event.uid}): ${problems.join('; ')}`,
    );
  }
}
