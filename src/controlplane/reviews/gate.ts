import type { Clock } from '../../core/clock.ts';
import { isPaddockError, PaddockError } from '../../core/errors.ts';
import {
  approvedMessage,
  deniedMessage,
  expiredMessage,
  type GateAnswer,
  type GateDecision,
  gateStep,
  type HeldCall,
  parseGate,
  pendingMessage,
} from '../../policy/index.ts';
import type { ReviewBinding, ReviewRequestRecord, Store } from '../store/store.ts';
import { newReviewRequest, reviewDigest } from './held-request.ts';
import { expiredEvent } from './review-audit.ts';

// The gate an enforcement point calls when the PDP answers `review`. Bound to the session and
// the digest of the exact call: an approval for it is used here, once, atomically; otherwise
// the call waits on its pending request (one per call, even when retries race), is refused
// (denied, or expired under onTimeout deny), or is held as a new request.

export interface QueueDeps {
  readonly store: Store;
  readonly clock: Clock;
  /** Appends one audit event; a failure fails the operation (the call is then refused). */
  readonly emit: (event: Record<string, unknown>) => Promise<unknown>;
  readonly newId: () => string;
}

// Each pass either answers or saw another writer move the request on; a few passes settle any race.
const MAX_PASSES = 5;

/** Applies the timeout to due requests (just `id` when given) and audits each one this call decided. */
export async function expireDue(deps: QueueDeps, id?: string): Promise<ReviewRequestRecord[]> {
  const decided = await deps.store.expireReviewRequests(id === undefined ? {} : { id });
  for (const record of decided) await deps.emit(expiredEvent(record, deps.clock.now()));
  return decided;
}

/** The binding must name someone and something: an empty session would join every session's calls. */
function checkHeldCall(call: HeldCall): void {
  const missing: string[] = call.requester?.id?.trim() ? [] : ['requester.id'];
  for (const key of ['workspaceId', 'sessionId', 'action'] as const)
    if (!call[key]?.trim()) missing.push(key);
  if (missing.length > 0) {
    throw new PaddockError(
      'PDK_REVIEW_INVALID',
      `held call ${call.action} ${call.resource} has no ${missing.join(', ')}`,
    );
  }
}

export async function requestReview(deps: QueueDeps, call: HeldCall): Promise<GateAnswer> {
  checkHeldCall(call);
  const gate = parseGate(call.gate);
  const digest = reviewDigest(call);
  const binding: ReviewBinding = {
    workspaceId: call.workspaceId,
    sessionId: call.sessionId,
    argumentDigest: digest,
  };
  const decide = async (record: ReviewRequestRecord, decision: Omit<GateDecision, 'correlationUid'>) => {
    const event = call.decisionEvent?.({ ...decision, correlationUid: record.id });
    if (event) await deps.emit(event);
  };
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const used = await deps.store.consumeReviewApproval(binding);
    if (used) {
      const message = approvedMessage(used.id, used.timedOut);
      const reasonCode = used.timedOut ? 'review_approved_by_timeout' : 'review_approved';
      await decide(used, { decision: 'allow', reasonCode, reason: message });
      return { status: 'approved', reviewId: used.id, message };
    }
    const latest = await deps.store.findBoundReviewRequest(binding);
    switch (gateStep(latest, deps.clock.now())) {
      case 'wait': {
        const record = latest as ReviewRequestRecord;
        return pending(deps, record, 'review_pending', decide);
      }
      case 'expire':
        await expireDue(deps, (latest as ReviewRequestRecord).id);
        continue;
      case 'refuse': {
        const record = latest as ReviewRequestRecord;
        const denied = record.status === 'denied';
        const message = denied
          ? deniedMessage(record.id, record.decidedBy, record.decisionReason)
          : expiredMessage(record.id, record.expiresAt);
        await decide(record, {
          decision: 'deny',
          reasonCode: denied ? 'review_denied' : 'review_expired',
          reason: message,
        });
        return { status: 'denied', reviewId: record.id, message };
      }
      case 'consume':
        continue; // another call used this approval a moment ago: look again
      case 'hold': {
        const request = newReviewRequest(call, gate, {
          id: deps.newId(),
          digest,
          expiresAt: deps.clock.now() + gate.timeoutMs,
        });
        const held = await deps.store.createReviewRequest(request).catch((error) => {
          // A concurrent retry of the same call held it first: wait on that one.
          if (isPaddockError(error, 'PDK_STORE_CONFLICT') && isPendingConflict(error)) return undefined;
          throw error;
        });
        if (held) return pending(deps, held, 'review_requested', decide);
        continue;
      }
    }
  }
  throw new PaddockError(
    'PDK_INTERNAL',
    `review gate for ${call.action} ${call.resource} did not settle after ${MAX_PASSES} passes: the call is refused`,
  );
}

function isPendingConflict(error: PaddockError): boolean {
  return (error.details as { reason?: string } | undefined)?.reason === 'pending';
}

async function pending(
  deps: QueueDeps,
  record: ReviewRequestRecord,
  reasonCode: 'review_requested' | 'review_pending',
  decide: (record: ReviewRequestRecord, decision: Omit<GateDecision, 'correlationUid'>) => Promise<void>,
): Promise<GateAnswer> {
  const approvals = (await deps.store.listReviewApprovals(record.id)).length;
  const message = pendingMessage({ ...record, approvals });
  await decide(record, { decision: 'review', reasonCode, reason: message });
  return {
    status: 'pending',
    reviewId: record.id,
    message,
    expiresAt: new Date(record.expiresAt).toISOString(),
  };
}
