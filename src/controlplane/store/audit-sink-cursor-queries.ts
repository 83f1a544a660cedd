import type { SqlExecutor } from './sql-executor.ts';

// The sinks' feed cursor (migration 0007): the last global sequence number every sink has
// delivered or dead-lettered. Saving never moves it back: a replica that lost the `audit`
// election may still save what it flushed after its successor saved more, and everything up to
// the larger value has been handed on by one of them.

export async function auditSinkCursor(db: SqlExecutor, feed: string): Promise<number | undefined> {
  const rows = await db.query('SELECT gseq FROM audit_sink_cursors WHERE feed = ?', [feed]);
  return rows[0] ? Number(rows[0]['gseq']) : undefined;
}

export async function saveAuditSinkCursor(
  db: SqlExecutor,
  feed: string,
  gseq: number,
  now: number,
): Promise<void> {
  await db.execute(
    `INSERT INTO audit_sink_cursors (feed, gseq, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (feed) DO UPDATE SET gseq = excluded.gseq, updated_at = excluded.updated_at
     WHERE excluded.gseq > audit_sink_cursors.gseq`,
    [feed, gseq, now],
  );
}
