import type { ReviewerIdentity } from './types.ts';

// Who may answer a review request: someone the gate names (`user:ID`, or `group:NAME` they
// belong to) who is not the requester. Ids compare case-insensitively (emails are), so
// `Alice@Example.com` cannot approve `alice@example.com`'s request; group names compare
// exactly, as identity providers and /etc/group spell them.

export type ReviewerRefusal = 'self_approval' | 'not_a_reviewer';

export type ReviewerCheck =
  | {
      readonly allowed: true;
      /** The gate entry that admitted the reviewer, e.g. `group:appsec`. */
      readonly via: string;
    }
  | { readonly allowed: false; readonly refusal: ReviewerRefusal; readonly message: string };

/** The parts of a review request the rule reads. */
export interface ReviewerScope {
  readonly id: string;
  readonly requester: string;
  /** The gate's reviewers as stored with the request (the gate in force when the call was held). */
  readonly reviewers: readonly string[];
}

/** Whether two user ids name the same person. */
export function sameUser(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** The gate entry (`user:…` or `group:…`) that admits `reviewer`, or undefined. */
export function matchReviewer(reviewer: ReviewerIdentity, reviewers: readonly string[]): string | undefined {
  return reviewers.find((entry) => {
    if (entry.startsWith('user:')) return sameUser(entry.slice('user:'.length), reviewer.id);
    if (entry.startsWith('group:')) return reviewer.groups.includes(entry.slice('group:'.length));
    return false; // an unknown kind admits nobody (fail closed)
  });
}

/**
 * Whether `reviewer` may approve or deny the request. The requester is refused first, even when
 * the gate names them, so a self-approval is always reported as one.
 * @example checkReviewer({ id: 'bob', groups: ['appsec'] }, { id: 'rv-1', requester: 'alice', reviewers: ['group:appsec'] })
 * // { allowed: true, via: 'group:appsec' }
 */
export function checkReviewer(reviewer: ReviewerIdentity, request: ReviewerScope): ReviewerCheck {
  if (reviewer.id.trim() === '') {
    return {
      allowed: false,
      refusal: 'not_a_reviewer',
      message: `an anonymous reviewer cannot answer review ${request.id}`,
    };
  }
  if (sameUser(reviewer.id, request.requester)) {
    return {
      allowed: false,
      refusal: 'self_approval',
      message: `${reviewer.id} requested review ${request.id} and cannot answer it: another reviewer must`,
    };
  }
  const via = matchReviewer(reviewer, request.reviewers);
  if (via) return { allowed: true, via };
  const named =
    request.reviewers.length > 0 ? request.reviewers.join(', ') : 'nobody (the gate names no reviewers)';
  return {
    allowed: false,
    refusal: 'not_a_reviewer',
    message: `${reviewer.id} is not a reviewer of review ${request.id}: it may be answered by ${named}`,
  };
}
