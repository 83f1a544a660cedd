import { type Clock, systemClock } from '../../core/clock.ts';
import { createLogger } from '../../core/log.ts';
import type {
  GateAnswer,
  HeldCall,
  ReviewerIdentity,
  ReviewGate,
  ReviewInbox,
  ReviewListFilter,
  ReviewView,
} from '../../policy/index.ts';
import type { ReviewRequestRecord, Store } from '../store/store.ts';
import { expireDue, type QueueDeps, requestReview } from './gate.ts';
import { newReviewId } from './held-request.ts';
import { answerReview, listReviews, showReview } from './inbox.ts';

// The review queue: the gate enforcement points call, and the inbox reviewers answer, over one
// Store. The control plane runs it over its shared store; `paddock run` (standalone) runs it
// over a SQLite file of its own and serves the inbox on its local review socket. Every rule it
// applies is in policy/review/; every race is settled by the store (review-gate-queries.ts).

const log = createLogger('reviews');

export interface ReviewQueueOptions {
  readonly store: Store;
  /** Appends one audit event (the supervisor's chain writer, the control plane's audit store). */
  readonly audit: (event: Record<string, unknown>) => Promise<unknown>;
  /** Must be the store's clock: expiry compares the two. Default: the system clock. */
  readonly clock?: Clock;
  /** Default: `rv-` and 16 random hex digits. */
  readonly newId?: () => string;
}

/**
 * Holds calls that need review, takes reviewers' answers, applies timeouts, and audits each step.
 * @example
 * const queue = new ReviewQueue({ store, audit: (event) => writer.append(event) });
 * const answer = await queue.request(heldCall); // { status: 'pending', reviewId, message, expiresAt }
 * await queue.approve(answer.reviewId, { id: 'bob@example.com', groups: ['appsec'] }, 'looks right');
 * await queue.request(heldCall); // { status: 'approved', … }: this one call goes through
 */
export class ReviewQueue implements ReviewGate, ReviewInbox {
  readonly #deps: QueueDeps;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: ReviewQueueOptions) {
    this.#deps = {
      store: options.store,
      clock: options.clock ?? systemClock,
      emit: options.audit,
      newId: options.newId ?? newReviewId,
    };
  }

  /** The gate: see HeldCall and GateAnswer. Throws (and the caller must refuse the call) when the store or audit fails. */
  request(call: HeldCall): Promise<GateAnswer> {
    return requestReview(this.#deps, call);
  }

  /** Requests oldest first; due timeouts are applied first so statuses are current. */
  list(filter?: ReviewListFilter): Promise<ReviewView[]> {
    return listReviews(this.#deps, filter);
  }

  /** PDK_REVIEW_NOT_FOUND when absent. */
  show(id: string): Promise<ReviewView> {
    return showReview(this.#deps, id);
  }

  /**
   * Records an approval; the request is approved once minApprovals distinct reviewers approved.
   * PDK_REVIEW_SELF_APPROVAL, PDK_REVIEW_NOT_REVIEWER (both audited), PDK_REVIEW_DUPLICATE,
   * PDK_REVIEW_EXPIRED, PDK_REVIEW_CLOSED, PDK_REVIEW_NOT_FOUND, PDK_REVIEW_INVALID (reason).
   */
  approve(id: string, reviewer: ReviewerIdentity, reason: string): Promise<ReviewView> {
    return answerReview(this.#deps, id, reviewer, 'approve', reason);
  }

  /** Denies the request outright (one allowed reviewer suffices). Errors as for approve. */
  deny(id: string, reviewer: ReviewerIdentity, reason: string): Promise<ReviewView> {
    return answerReview(this.#deps, id, reviewer, 'deny', reason);
  }

  /** Applies onTimeout to every request whose timeout passed; resolves to those decided now. */
  expireDue(): Promise<ReviewRequestRecord[]> {
    return expireDue(this.#deps);
  }

  /**
   * Sweeps timeouts every `intervalMs` (default 30000, at least 100) so expiry is audited even when
   * nobody looks; the timer does not keep the process alive. Stopped by stopSweeper().
   */
  startSweeper(intervalMs = 30_000): void {
    this.stopSweeper();
    this.#sweeper = setInterval(
      () => {
        this.expireDue().catch((error: Error) =>
          log.error({ error: error.message }, 'review timeout sweep failed'),
        );
      },
      Math.max(100, intervalMs),
    );
    this.#sweeper.unref();
  }

  stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
