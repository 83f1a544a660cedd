import { PaddockError } from '../../core/errors.ts';
import { APPROVAL_COLUMNS, REVIEW_COLUMNS, toApproval, toReviewRequest } from './rows.ts';
import {
  isConstraintViolation,
  rethrowAsStoreError,
  type SqlExecutor,
  type SqlValue,
} from './sql-executor.ts';
import type {
  NewReviewApproval,
  NewReviewRequest,
  ReviewApprovalRecord,
  ReviewRequestFilter,
  ReviewRequestRecord,
  ReviewStatus,
} from './store.ts';

// Review requests and their approvals. An approval is accepted only while its request is
// pending and unexpired, and the (request, reviewer) primary key makes a second approval
// by the same reviewer a conflict even when two arrive at once.

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

export async function createReviewRequest(
  db: SqlExecutor,
  request: NewReviewRequest,
  now: number,
): Promise<ReviewRequestRecord> {
  const rows = await db
    .query(
      `INSERT INTO review_requests (${REVIEW_COLUMNS})
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL)
         RETURNING ${REVIEW_COLUMNS}`,
      [
        request.id,
        request.requester,
        request.workspaceId,
        request.blueprint,
        request.tool,
        JSON.stringify(request.arguments),
        request.argumentDigest,
        now,
        request.expiresAt,
        request.sessionId ?? null,
        request.harness ?? null,
        request.action ?? '',
        request.resource ?? '',
        JSON.stringify(request.ruleIds ?? []),
        JSON.stringify(request.reviewers ?? []),
        request.minApprovals ?? 1,
        request.onTimeout ?? 'deny',
        request.bundleId ?? '',
        request.bundleVersion ?? '',
        false,
      ],
    )
    .catch(async (error) => {
      // Two unique constraints: the id, and one pending request per bound call.
      const taken = isConstraintViolation(error, 'unique') && (await getReviewRequest(db, request.id));
      return rethrowAsStoreError(error, {
        unique: () =>
          taken
            ? new PaddockError('PDK_STORE_CONFLICT', `review request ${request.id} already exists`)
            : new PaddockError(
                'PDK_STORE_CONFLICT',
                `a pending review request for this call already exists in session ${request.sessionId}`,
                { details: { reason: 'pending' } },
              ),
        'foreign-key': () =>
          new PaddockError(
            'PDK_STORE_NOT_FOUND',
            `review request workspace ${request.workspaceId} not found`,
          ),
      });
    });
  return toReviewRequest(rows[0]!);
}

export async function getReviewRequest(
  db: SqlExecutor,
  id: string,
): Promise<ReviewRequestRecord | undefined> {
  const rows = await db.query(`SELECT ${REVIEW_COLUMNS} FROM review_requests WHERE id = ?`, [id]);
  return rows[0] && toReviewRequest(rows[0]);
}

export async function listReviewRequests(
  db: SqlExecutor,
  filter: ReviewRequestFilter,
): Promise<ReviewRequestRecord[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (filter.status !== undefined) {
    where.push('status = ?');
    params.push(filter.status);
  }
  if (filter.workspaceId !== undefined) {
    where.push('workspace_id = ?');
    params.push(filter.workspaceId);
  }
  params.push(clampLimit(filter.limit));
  const rows = await db.query(
    `SELECT ${REVIEW_COLUMNS} FROM review_requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at, id LIMIT ?`,
    params,
  );
  return rows.map(toReviewRequest);
}

export async function addReviewApproval(
  db: SqlExecutor,
  approval: NewReviewApproval,
  now: number,
): Promise<ReviewApprovalRecord> {
  const { requestId, reviewer } = approval;
  return db.transaction(async (tx) => {
    // A no-op write that locks the request row (PostgreSQL), so a concurrent decision waits
    // for this approval or this approval sees the decision.
    const open = await tx.execute(
      "UPDATE review_requests SET status = status WHERE id = ? AND status = 'pending' AND expires_at > ?",
      [requestId, now],
    );
    if (open === 0) throw await closedRequestError(tx, requestId, now);
    const rows = await tx
      .query(
        `INSERT INTO review_approvals (${APPROVAL_COLUMNS}) VALUES (?, ?, ?, ?) RETURNING ${APPROVAL_COLUMNS}`,
        [requestId, reviewer, approval.comment ?? null, now],
      )
      .catch((error) =>
        rethrowAsStoreError(error, {
          unique: () =>
            new PaddockError(
              'PDK_STORE_CONFLICT',
              `${reviewer} already approved review request ${requestId}: each approval must come from a different reviewer`,
            ),
        }),
      );
    return toApproval(rows[0]!);
  });
}

export async function listReviewApprovals(
  db: SqlExecutor,
  requestId: string,
): Promise<ReviewApprovalRecord[]> {
  const rows = await db.query(
    `SELECT ${APPROVAL_COLUMNS} FROM review_approvals WHERE request_id = ? ORDER BY created_at, reviewer`,
    [requestId],
  );
  return rows.map(toApproval);
}

export async function decideReviewRequest(
  db: SqlExecutor,
  decision: { id: string; status: Exclude<ReviewStatus, 'pending'>; decidedBy: string | null },
  now: number,
): Promise<ReviewRequestRecord> {
  const { id, status, decidedBy } = decision;
  const rows = await db.query(
    `UPDATE review_requests SET status = ?, decided_at = ?, decided_by = ? WHERE id = ? AND status = 'pending'
       RETURNING ${REVIEW_COLUMNS}`,
    [status, now, decidedBy, id],
  );
  if (rows[0]) return toReviewRequest(rows[0]);
  // No expiry cut-off here: the expiry sweeper itself decides late requests (as expired).
  throw await closedRequestError(db, id, Number.NEGATIVE_INFINITY);
}

async function closedRequestError(db: SqlExecutor, id: string, now: number): Promise<PaddockError> {
  const row = (await db.query('SELECT status, expires_at FROM review_requests WHERE id = ?', [id]))[0];
  if (!row) return new PaddockError('PDK_STORE_NOT_FOUND', `review request ${id} not found`);
  if (row['status'] === 'pending' && Number(row['expires_at']) <= now) {
    return new PaddockError(
      'PDK_STORE_CONFLICT',
      `review request ${id} has expired and can no longer be approved`,
    );
  }
  return new PaddockError(
    'PDK_STORE_CONFLICT',
    `review request ${id} was already decided: ${String(row['status'])}`,
  );
}

export function clampLimit(limit: number | undefined, fallback = DEFAULT_LIMIT, max = MAX_LIMIT): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(Math.max(Math.trunc(limit), 1), max);
}
