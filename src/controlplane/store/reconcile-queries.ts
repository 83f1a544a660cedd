import { PaddockError } from '../../core/errors.ts';
import { rethrowAsStoreError, type SqlExecutor, type SqlRow } from './sql-executor.ts';
import type { JsonValue, NewReconcileApply, ReconcileApplyRecord, ReconcileMark } from './store.ts';

// The reconciler's statements (migration 0004): applies with their plan, per-step progress, and
// the marks a finished step leaves. A step is marked done in the same transaction as its mark,
// so after a crash the store never says a step is done without what it recorded.

const APPLY_COLUMNS = 'id, commit_sha, plan, approved_by, status, created_at, finished_at';

function toApply(row: SqlRow, doneSteps: number[]): ReconcileApplyRecord {
  return {
    id: String(row['id']),
    commit: String(row['commit_sha']),
    plan: JSON.parse(String(row['plan'])) as JsonValue,
    approvedBy: String(row['approved_by']),
    status: row['status'] === 'done' ? 'done' : 'open',
    createdAt: Number(row['created_at']),
    finishedAt: row['finished_at'] === null ? null : Number(row['finished_at']),
    doneSteps,
  };
}

export async function beginReconcileApply(
  db: SqlExecutor,
  apply: NewReconcileApply,
  now: number,
): Promise<ReconcileApplyRecord> {
  const rows = await db
    .query(
      `INSERT INTO reconcile_applies (${APPLY_COLUMNS}) VALUES (?, ?, ?, ?, 'open', ?, NULL) RETURNING ${APPLY_COLUMNS}`,
      [apply.id, apply.commit, JSON.stringify(apply.plan), apply.approvedBy, now],
    )
    .catch((error) =>
      rethrowAsStoreError(error, {
        unique: () =>
          new PaddockError(
            'PDK_STORE_CONFLICT',
            `another apply is in progress (or apply ${apply.id} exists): resume it with paddock apply first`,
          ),
      }),
    );
  return toApply(rows[0]!, []);
}

export async function openReconcileApply(db: SqlExecutor): Promise<ReconcileApplyRecord | undefined> {
  return db.transaction(async (tx) => {
    const rows = await tx.query(`SELECT ${APPLY_COLUMNS} FROM reconcile_applies WHERE status = 'open'`);
    if (!rows[0]) return undefined;
    const done = await tx.query('SELECT idx FROM reconcile_steps WHERE apply_id = ? ORDER BY idx', [
      String(rows[0]['id']),
    ]);
    return toApply(
      rows[0],
      done.map((row) => Number(row['idx'])),
    );
  });
}

export async function completeReconcileStep(
  db: SqlExecutor,
  applyId: string,
  index: number,
  marks: readonly ReconcileMark[],
  now: number,
): Promise<void> {
  await db.transaction(async (tx) => {
    const open = await tx.query("SELECT commit_sha FROM reconcile_applies WHERE id = ? AND status = 'open'", [
      applyId,
    ]);
    if (!open[0]) throw new PaddockError('PDK_STORE_NOT_FOUND', `no open apply ${applyId}`);
    await tx
      .execute('INSERT INTO reconcile_steps (apply_id, idx, done_at) VALUES (?, ?, ?)', [applyId, index, now])
      .catch((error) =>
        rethrowAsStoreError(error, {
          unique: () =>
            new PaddockError('PDK_STORE_CONFLICT', `step ${index} of apply ${applyId} is already done`),
        }),
      );
    for (const mark of marks) {
      const changed = await tx.execute(
        'UPDATE reconcile_marks SET hash = ?, detail = ?, commit_sha = ?, updated_at = ? WHERE kind = ? AND name = ?',
        [mark.hash, mark.detail, mark.commit, now, mark.kind, mark.name],
      );
      if (changed === 0)
        await tx.execute(
          'INSERT INTO reconcile_marks (kind, name, hash, detail, commit_sha, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
          [mark.kind, mark.name, mark.hash, mark.detail, mark.commit, now],
        );
    }
  });
}

export async function finishReconcileApply(db: SqlExecutor, applyId: string, now: number): Promise<void> {
  const changed = await db.execute(
    "UPDATE reconcile_applies SET status = 'done', finished_at = ? WHERE id = ? AND status = 'open'",
    [now, applyId],
  );
  if (changed === 0) throw new PaddockError('PDK_STORE_NOT_FOUND', `no open apply ${applyId}`);
}

export async function listReconcileMarks(db: SqlExecutor): Promise<ReconcileMark[]> {
  const rows = await db.query(
    'SELECT kind, name, hash, detail, commit_sha FROM reconcile_marks ORDER BY kind, name',
  );
  return rows.map((row) => ({
    kind: row['kind'] === 'bundle' ? 'bundle' : 'workspace',
    name: String(row['name']),
    hash: String(row['hash']),
    detail: String(row['detail']),
    commit: String(row['commit_sha']),
  }));
}

export async function lastReconcileApply(db: SqlExecutor): Promise<ReconcileApplyRecord | undefined> {
  const rows = await db.query(
    `SELECT ${APPLY_COLUMNS} FROM reconcile_applies WHERE status = 'done' ORDER BY finished_at DESC, id DESC LIMIT 1`,
  );
  return rows[0] && toApply(rows[0], []);
}
