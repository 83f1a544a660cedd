import { PaddockError } from '../../core/errors.ts';
import { clampLimit } from './review-queries.ts';
import { AUDIT_COLUMNS, toAuditEvent } from './rows.ts';
import { rethrowAsStoreError, type SqlExecutor } from './sql-executor.ts';
import type { AuditAppendResult, AuditEventRecord, AuditReadOptions } from './store.ts';

// Audit ingest. Supervisors upload their spool in batches and retry after any failure,
// so a uid seen before is skipped when it is the same event, and refused (with the whole
// batch) when it is not: a second event claiming a stored uid or (source, seq) is a forked
// or forged chain, which the store must not paper over.

const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 10_000;

export async function appendAuditEvents(
  db: SqlExecutor,
  batch: readonly AuditEventRecord[],
  now: number,
): Promise<AuditAppendResult> {
  batch.forEach(checkEvent);
  if (batch.length === 0) return { inserted: 0, skipped: 0 };
  return db.transaction(async (tx) => {
    let inserted = 0;
    let skipped = 0;
    for (const event of batch) {
      const rows = await tx
        .query(
          `INSERT INTO audit_events (${AUDIT_COLUMNS}, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (uid) DO NOTHING RETURNING uid`,
          [
            event.source,
            event.seq,
            event.uid,
            event.classUid,
            event.time,
            JSON.stringify(event.event),
            event.prevHash,
            event.hash,
            now,
          ],
        )
        .catch((error) =>
          rethrowAsStoreError(error, {
            unique: () =>
              new PaddockError(
                'PDK_STORE_CONFLICT',
                `audit source ${event.source} already has a different event at seq ${event.seq} ` +
                  `(uploaded uid ${event.uid}): the chain forked; nothing in this batch was stored`,
              ),
          }),
        );
      if (rows.length === 1) {
        inserted += 1;
        continue;
      }
      const stored = (
        await tx.query('SELECT source, seq, hash FROM audit_events WHERE uid = ?', [event.uid])
      )[0];
      if (
        stored?.['source'] === event.source &&
        Number(stored['seq']) === event.seq &&
        stored['hash'] === event.hash
      ) {
        skipped += 1;
        continue;
      }
      throw new PaddockError(
        'PDK_STORE_CONFLICT',
        `audit event uid ${event.uid} is already stored with different content (source ${String(stored?.['source'])} ` +
          `seq ${String(stored?.['seq'])}): nothing in this batch was stored`,
      );
    }
    return { inserted, skipped };
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
  if (JSON.stringify(event.event) === undefined) problems.push('event is not JSON');
  if (problems.length > 0) {
    throw new PaddockError(
      'PDK_AUDIT_EVENT_INVALID',
      `audit event ${index} (uid ${event.uid}): ${problems.join('; ')}`,
    );
  }
}
