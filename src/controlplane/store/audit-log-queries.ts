import type { SignedCheckpoint } from '../../audit/index.ts';
import { rethrowAsStoreError, type SqlExecutor, type SqlRow, type SqlValue } from './sql-executor.ts';
import type { AuditChainLink, AuditLogEntry, AuditSearchFilter, AuditSnapshot } from './store.ts';

// The central audit log read in global order (verify, tail, search, export) and its signed
// checkpoints. Event text comes back as stored (canonical JSON), unparsed: export writes it as
// is, and the verifier hashes it as is, inside the text its hash covers (readAuditChainLinks).

const LOG_COLUMNS = 'gseq, source, seq, uid, class_uid, time, event, prev_hash, hash';
const MAX_PAGE = 10_000;
const CHECKPOINT_COLUMNS = 'idx, gseq, time, body, hash, signature, key_id';

function toEntry(row: SqlRow): AuditLogEntry {
  return {
    gseq: Number(row['gseq']),
    source: String(row['source']),
    seq: Number(row['seq']),
    uid: String(row['uid']),
    classUid: Number(row['class_uid']),
    time: Number(row['time']),
    eventJson: String(row['event']),
    prevHash: String(row['prev_hash']),
    hash: String(row['hash']),
  };
}

function toCheckpoint(row: SqlRow): SignedCheckpoint {
  return {
    index: Number(row['idx']),
    gseq: Number(row['gseq']),
    time: Number(row['time']),
    body: String(row['body']),
    hash: String(row['hash']),
    signature: String(row['signature']),
    keyId: String(row['key_id']),
  };
}

function page(limit: number | undefined, fallback: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(MAX_PAGE, Math.max(1, Math.trunc(limit)));
}

/** Which events a verifying read takes: gseq in (afterGseq, uptoGseq], a page at a time. */
interface GseqRange {
  readonly afterGseq?: number;
  readonly uptoGseq?: number;
  readonly limit?: number;
}

/** `columns` of the events in `range`, in global order, as arrays. */
function readGseqRange(db: SqlExecutor, columns: string, range: GseqRange): Promise<unknown[][]> {
  // Arrays, not row objects: verification reads every event, and a driver-built object per
  // row costs more than the read itself.
  // No upper bound unless asked: with one, PostgreSQL may plan a bitmap scan of the whole
  // range and sort it per page instead of walking the gseq index.
  const after = Math.max(0, Math.trunc(range.afterGseq ?? 0));
  const limit = page(range.limit, 1000);
  return range.uptoGseq === undefined
    ? db.queryArrays(`SELECT ${columns} FROM audit_events WHERE gseq > ? ORDER BY gseq LIMIT ?`, [
        after,
        limit,
      ])
    : db.queryArrays(
        `SELECT ${columns} FROM audit_events WHERE gseq > ? AND gseq <= ? ORDER BY gseq LIMIT ?`,
        [after, range.uptoGseq, limit],
      );
}

/** Events with gseq in (afterGseq, uptoGseq], in global order. */
export async function readAuditLog(db: SqlExecutor, range: GseqRange): Promise<AuditLogEntry[]> {
  const rows = await readGseqRange(db, LOG_COLUMNS, range);
  return rows.map(
    (row): AuditLogEntry => ({
      gseq: Number(row[0]),
      source: String(row[1]),
      seq: Number(row[2]),
      uid: String(row[3]),
      classUid: Number(row[4]),
      time: Number(row[5]),
      eventJson: String(row[6]),
      prevHash: String(row[7]),
      hash: String(row[8]),
    }),
  );
}

// The text each record's hash covers, assembled where the row is (see AuditChainLink): the
// verifier hashes it as one flat string, instead of building a 1.4 KB string per event itself.
// concat() (SQLite 3.44+, PostgreSQL) allocates the result once, where each || copies it again.
const CHAIN_LINK_COLUMNS = `gseq, source, seq, uid, time, prev_hash, hash,
  concat('{"event":', event, ',"prev":"', prev_hash, '","seq":', seq, ',"time":', time, '}')`;

/** Events with gseq in (afterGseq, uptoGseq], in global order, as verification reads them. */
export async function readAuditChainLinks(db: SqlExecutor, range: GseqRange): Promise<AuditChainLink[]> {
  const rows = await readGseqRange(db, CHAIN_LINK_COLUMNS, range);
  return rows.map(
    (row): AuditChainLink => ({
      gseq: Number(row[0]),
      source: String(row[1]),
      seq: Number(row[2]),
      uid: String(row[3]),
      time: Number(row[4]),
      prevHash: String(row[5]),
      hash: String(row[6]),
      hashed: String(row[7]),
    }),
  );
}

/** Events matching every given filter, in global order (newest last); `limit` from the start or, with `newest`, the end. */
export async function searchAuditLog(db: SqlExecutor, filter: AuditSearchFilter): Promise<AuditLogEntry[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const add = (sql: string, ...values: SqlValue[]) => {
    where.push(sql);
    params.push(...values);
  };
  if (filter.user !== undefined) add('actor_user = ?', filter.user);
  if (filter.workspace !== undefined) add('workspace_id = ?', filter.workspace);
  if (filter.classUid !== undefined) add('class_uid = ?', filter.classUid);
  if (filter.eventCode !== undefined) add('event_code = ?', filter.eventCode);
  if (filter.decision !== undefined) add('decision = ?', filter.decision);
  if (filter.source !== undefined) add('source = ?', filter.source);
  if (filter.since !== undefined) add('time >= ?', filter.since);
  if (filter.until !== undefined) add('time < ?', filter.until);
  if (filter.afterGseq !== undefined) add('gseq > ?', filter.afterGseq);
  const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const limit = page(filter.limit, 100);
  if (filter.newest) {
    const rows = await db.query(
      `SELECT ${LOG_COLUMNS} FROM audit_events ${clause} ORDER BY gseq DESC LIMIT ?`,
      [...params, limit],
    );
    return rows.map(toEntry).reverse();
  }
  const rows = await db.query(`SELECT ${LOG_COLUMNS} FROM audit_events ${clause} ORDER BY gseq LIMIT ?`, [
    ...params,
    limit,
  ]);
  return rows.map(toEntry);
}

/**
 * The global sequence, every chain head and the newest checkpoint, consistent with each other:
 * read under the ingest lock, so no batch commits in between (a short hold: three reads).
 */
export async function auditSnapshot(db: SqlExecutor): Promise<AuditSnapshot> {
  return db.transaction(async (tx) => {
    const lock =
      tx.dialect === 'postgres'
        ? 'SELECT gseq FROM audit_state WHERE id = 1 FOR UPDATE'
        : 'SELECT gseq FROM audit_state WHERE id = 1';
    const gseq = Number((await tx.query(lock))[0]?.['gseq'] ?? 0);
    const heads = (await tx.query('SELECT source, seq, hash FROM audit_sources ORDER BY source')).map(
      (row) => ({
        source: String(row['source']),
        seq: Number(row['seq']),
        hash: String(row['hash']),
      }),
    );
    // ORDER BY source in SQL may collate differently per database: sort by code unit here.
    heads.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
    const last = (
      await tx.query(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY idx DESC LIMIT 1`)
    )[0];
    return { gseq, heads, lastCheckpoint: last && toCheckpoint(last) };
  });
}

/** Stores a checkpoint; false when its index is taken (another replica wrote one first). */
export async function appendAuditCheckpoint(db: SqlExecutor, checkpoint: SignedCheckpoint): Promise<boolean> {
  const changed = await db
    .execute(
      `INSERT INTO audit_checkpoints (${CHECKPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idx) DO NOTHING`,
      [
        checkpoint.index,
        checkpoint.gseq,
        checkpoint.time,
        checkpoint.body,
        checkpoint.hash,
        checkpoint.signature,
        checkpoint.keyId,
      ],
    )
    .catch((error) => rethrowAsStoreError(error));
  return changed === 1;
}

/** Checkpoints with index > afterIndex, oldest first. */
export async function listAuditCheckpoints(
  db: SqlExecutor,
  options: { readonly afterIndex?: number; readonly limit?: number },
): Promise<SignedCheckpoint[]> {
  const rows = await db.query(
    `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE idx > ? ORDER BY idx LIMIT ?`,
    [Math.max(0, Math.trunc(options.afterIndex ?? 0)), page(options.limit, 1000)],
  );
  return rows.map(toCheckpoint);
}

/** The event code stored at a global sequence number (undefined when none). */
export async function auditEventCodeAt(db: SqlExecutor, gseq: number): Promise<string | undefined> {
  const row = (await db.query('SELECT event_code FROM audit_events WHERE gseq = ?', [gseq]))[0];
  return row ? String(row['event_code']) : undefined;
}
