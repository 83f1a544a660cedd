import { isPaddockError, PaddockError } from '../../core/errors.ts';
import {
  checkReviewer,
  type ReviewerIdentity,
  type ReviewListFilter,
  type ReviewVerdict,
  type ReviewView,
} from '../../policy/index.ts';
import type { ReviewRequestRecord } from '../store/store.ts';
import { type QueueDeps, expireDue } from './gate.ts';
import { reviewView } from './held-request.ts';
import { answeredEvent, refusedAnswerEvent } from './review-audit.ts';

// What reviewers do: list, show, approve, deny. Each answer is checked against the gate stored
// with the request (who may answer, never the requester), then recorded by one store
// transaction that counts distinct approvals and decides; refusals that matter to security
// (self-approval, a non-reviewer) are audited as findings before the error is returned.

/** A reason longer than this is refused: it goes into every audit event of the answer. */
export const MAX_REASON_LENGTH = 1000;

export async function listReviews(deps: QueueDeps, filter: ReviewListFilter = {}): Promise<ReviewView[]> {
  await expireDue(deps);
  const records = await deps.store.listReviewRequests({ status: filter.status, limit: filter.limit });
  return Promise.all(
    records.map(async (record) => reviewView(record, await deps.store.listReviewApprovals(record.id))),
  );
}

export async function showReview(deps: QueueDeps, id: string): Promise<ReviewView> {
  await expireDue(deps, id);
  return reviewView(await mustGet(deps, id), await deps.store.listReviewApprovals(id));
}

export async function answerReview(
  deps: QueueDeps,
  id: string,
  reviewer: ReviewerIdentity,
  verdict: ReviewVerdict,
  reason: string,
): Promise<ReviewView> {
  const why = checkReason(reason);
  const record = await mustGet(deps, id);
  if (record.status === 'pending' && deps.clock.now() >= record.expiresAt) {
    await expireDue(deps, id);
    throw expired(record);
  }
  if (record.status !== 'pending') throw closed(record);
  const check = checkReviewer(reviewer, record);
  if (!check.allowed) {
    await deps.emit(refusedAnswerEvent(record, reviewer, check.refusal, check.message, deps.clock.now()));
    throw new PaddockError(
      check.refusal === 'self_approval' ? 'PDK_REVIEW_SELF_APPROVAL' : 'PDK_REVIEW_NOT_REVIEWER',
      check.message,
    );
  }
  // Ids compare case-insensitively, so store them one way: `Bob` and `bob` are one reviewer.
  const reviewerId = reviewer.id.trim().toLowerCase();
  const result = await deps.store
    .voteOnReviewRequest({ requestId: id, reviewer: reviewerId, verdict, reason: why })
    .catch(async (error) => {
      throw await storeRefusal(deps, error, record, reviewerId);
    });
  await deps.emit(answeredEvent(result.request, reviewer, verdict, why, result.approvals, deps.clock.now()));
  return reviewView(result.request, await deps.store.listReviewApprovals(id));
}

function checkReason(reason: string): string {
  const trimmed = typeof reason === 'string' ? reason.trim() : '';
  if (trimmed === '' || trimmed.length > MAX_REASON_LENGTH) {
    throw new PaddockError(
      'PDK_REVIEW_INVALID',
      `a review answer needs a reason of 1 to ${MAX_REASON_LENGTH} characters (got ${trimmed.length})`,
    );
  }
  return trimmed;
}

async function mustGet(deps: QueueDeps, id: string): Promise<ReviewRequestRecord> {
  const record = await deps.store.getReviewRequest(id);
  if (!record) throw new PaddockError('PDK_REVIEW_NOT_FOUND', `review request ${id} not found`);
  return record;
}

function expired(record: ReviewRequestRecord): PaddockError {
  return new PaddockError(
    'PDK_REVIEW_EXPIRED',
    `review request ${record.id} timed out at ${new Date(record.expiresAt).toISOString()} and can no longer be answered` +
      ` (onTimeout ${record.onTimeout} applied)`,
  );
}

function closed(record: ReviewRequestRecord): PaddockError {
  if (record.timedOut) return expired(record);
  const by = record.decidedBy ? ` by ${record.decidedBy}` : '';
  return new PaddockError(
    'PDK_REVIEW_CLOSED',
    `review request ${record.id} was already ${record.status}${by}`,
  );
}

/** Maps the store's refusal of a vote (another answer or the timeout got there first) to a review error. */
async function storeRefusal(
  deps: QueueDeps,
  error: unknown,
  record: ReviewRequestRecord,
  reviewerId: string,
): Promise<unknown> {
  if (isPaddockError(error, 'PDK_STORE_NOT_FOUND'))
    return new PaddockError('PDK_REVIEW_NOT_FOUND', error.message);
  if (!isPaddockError(error, 'PDK_STORE_CONFLICT')) return error;
  switch ((error.details as { reason?: string } | undefined)?.reason) {
    case 'duplicate':
      return new PaddockError(
        'PDK_REVIEW_DUPLICATE',
        `${reviewerId} already approved review request ${record.id}: each approval must come from a different reviewer`,
      );
    case 'expired':
      await expireDue(deps, record.id);
      return expired(record);
    default: {
      const now = await deps.store.getReviewRequest(record.id);
      return now
        ? closed(now)
        : new PaddockError('PDK_REVIEW_NOT_FOUND', `review request ${record.id} not found`);
    }
  }
}
