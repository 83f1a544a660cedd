import { PaddockError } from '../../core/errors.ts';
import { voteOutcome } from '../../policy/index.ts';
import { REVIEW_COLUMNS, toReviewRequest } from './rows.ts';
import { rethrowAsStoreError, type SqlExecutor } from './sql-executor.ts';
import type { NewReviewVote, ReviewBinding, ReviewRequestRecord, ReviewVoteResult } from './store.ts';

// The review gate's races, settled by the database on both backends:
//   - every vote first locks its request with a guarded no-op UPDATE (pending and unexpired),
//     so on PostgreSQL concurrent votes queue on the row and each sees the ones before it, and
//     on SQLite BEGIN IMMEDIATE serialises them; the (request, reviewer) key keeps reviewers
//     distinct; the decision is one more guarded UPDATE in the same transaction;
//   - consuming is one UPDATE guarded by `consumed_at IS NULL`: of two at once, PostgreSQL
//     re-checks the guard after the first commits, so the second changes nothing;
//   - expiry is one UPDATE guarded by `status = 'pending' AND expires_at <= now`, so a vote
//     and the timeout never both decide.

type Closed = 'expired' | 'closed' | 'duplicate';

function conflict(message: string, reason: Closed): PaddockError {
  return new PaddockError('PDK_STORE_CONFLICT', message, { details: { reason } });
}

async function closedError(db: SqlExecutor, id: string, now: number): Promise<PaddockError> {
  const row = (
    await db.query('SELECT status, expires_at, timed_out FROM review_requests WHERE id = ?', [id])
  )[0];
  if (!row) return new PaddockError('PDK_STORE_NOT_FOUND', `review request ${id} not found`);
  const timedOut = row['timed_out'] === true || row['timed_out'] === 1;
  if (timedOut || (row['status'] === 'pending' && Number(row['expires_at']) <= now)) {
    return conflict(`review request ${id} has expired and can no longer be answered`, 'expired');
  }
  return conflict(`review request ${id} was already decided: ${String(row['status'])}`, 'closed');
}

/**
 * The open request if there is one (at most one per binding), else the newest: ordering by time
 * alone would tie within a millisecond, and a gate that then saw an older, used approval would
 * try to hold a request that already exists, forever.
 */
export async function findBoundReviewRequest(
  db: SqlExecutor,
  binding: ReviewBinding,
): Promise<ReviewRequestRecord | undefined> {
  const rows = await db.query(
    `SELECT ${REVIEW_COLUMNS} FROM review_requests
       WHERE workspace_id = ? AND session_id = ? AND argument_digest = ?
       ORDER BY CASE WHEN status = 'pending' THEN 0 ELSE 1 END, created_at DESC, decided_at DESC, id DESC
       LIMIT 1`,
    [binding.workspaceId, binding.sessionId, binding.argumentDigest],
  );
  return rows[0] && toReviewRequest(rows[0]);
}

export async function voteOnReviewRequest(
  db: SqlExecutor,
  vote: NewReviewVote,
  now: number,
): Promise<ReviewVoteResult> {
  const { requestId: id, reviewer, verdict, reason } = vote;
  return db.transaction(async (tx) => {
    const open = await tx.execute(
      "UPDATE review_requests SET status = status WHERE id = ? AND status = 'pending' AND expires_at > ?",
      [id, now],
    );
    if (open === 0) throw await closedError(tx, id, now);
    if (verdict === 'approve') {
      await tx
        .execute(
          'INSERT INTO review_approvals (request_id, reviewer, comment, created_at) VALUES (?, ?, ?, ?)',
          [id, reviewer, reason, now],
        )
        .catch((error) =>
          rethrowAsStoreError(error, {
            unique: () =>
              conflict(
                `${reviewer} already approved review request ${id}: each approval must come from a different reviewer`,
                'duplicate',
              ),
          }),
        );
    }
    const approvals = Number(
      (await tx.query('SELECT COUNT(*) AS n FROM review_approvals WHERE request_id = ?', [id]))[0]?.['n'] ??
        0,
    );
    const minApprovals = Number(
      (await tx.query('SELECT min_approvals FROM review_requests WHERE id = ?', [id]))[0]?.['min_approvals'],
    );
    const outcome = voteOutcome(verdict, approvals, minApprovals);
    const rows =
      outcome === 'pending'
        ? await tx.query(`SELECT ${REVIEW_COLUMNS} FROM review_requests WHERE id = ?`, [id])
        : await tx.query(
            `UPDATE review_requests SET status = ?, decided_at = ?, decided_by = ?, decision_reason = ?
               WHERE id = ? AND status = 'pending' RETURNING ${REVIEW_COLUMNS}`,
            [outcome, now, reviewer, reason, id],
          );
    if (!rows[0]) throw await closedError(tx, id, now); // unreachable while the row is locked
    return { request: toReviewRequest(rows[0]), approvals };
  });
}

export async function consumeReviewApproval(
  db: SqlExecutor,
  binding: ReviewBinding,
  now: number,
): Promise<ReviewRequestRecord | undefined> {
  const rows = await db.query(
    `UPDATE review_requests SET consumed_at = ?
       WHERE id = (
         SELECT id FROM review_requests
           WHERE workspace_id = ? AND session_id = ? AND argument_digest = ? AND status = 'approved'
             AND consumed_at IS NULL AND decided_at + (expires_at - created_at) > ?
           ORDER BY decided_at, id LIMIT 1)
         AND status = 'approved' AND consumed_at IS NULL
       RETURNING ${REVIEW_COLUMNS}`,
    [now, binding.workspaceId, binding.sessionId, binding.argumentDigest, now],
  );
  return rows[0] && toReviewRequest(rows[0]);
}

export async function expireReviewRequests(
  db: SqlExecutor,
  filter: { readonly id?: string },
  now: number,
): Promise<ReviewRequestRecord[]> {
  const byId = filter.id === undefined ? '' : 'AND id = ?';
  const rows = await db.query(
    `UPDATE review_requests
       SET status = CASE on_timeout WHEN 'allow' THEN 'approved' ELSE 'expired' END,
           decided_at = ?, timed_out = ?
       WHERE status = 'pending' AND expires_at <= ? ${byId}
       RETURNING ${REVIEW_COLUMNS}`,
    filter.id === undefined ? [now, true, now] : [now, true, now, filter.id],
  );
  return rows.map(toReviewRequest).sort((a, b) => a.expiresAt - b.expiresAt || a.id.localeCompare(b.id));
}
