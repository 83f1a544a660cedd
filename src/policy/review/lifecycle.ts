import { parseDurationMs } from '../../core/clock.ts';
import { PaddockError } from '../../core/errors.ts';
import type { HeldCall, ReviewGateSpec, ReviewStatusName } from './types.ts';

// The life of a review request, as pure rules the queue applies with conditional writes:
//
//   pending ──approvals reach minApprovals──► approved ──the identical call retried──► (consumed)
//      │ ──a deny by any allowed reviewer───► denied
//      │ ──timeout, onTimeout deny──────────► expired
//      │ ──timeout, onTimeout allow─────────► approved (timedOut)
//      └ ──cancelled (reserved: nothing cancels yet)► cancelled
//
// Only pending moves, and only once: every write is guarded by `status = 'pending'`.
// An approval is used once (consumedAt) and only within one timeout period of its decision.

/** The statuses each status may move to. */
export const REVIEW_TRANSITIONS: Readonly<Record<ReviewStatusName, readonly ReviewStatusName[]>> = {
  pending: ['approved', 'denied', 'expired', 'cancelled'],
  approved: [],
  denied: [],
  expired: [],
  cancelled: [],
};

/** Whether a request at `from` may move to `to`. */
export function canTransition(from: ReviewStatusName, to: ReviewStatusName): boolean {
  return REVIEW_TRANSITIONS[from].includes(to);
}

export type ReviewVerdict = 'approve' | 'deny';

/**
 * The status after a vote: a deny decides at once; approvals decide once `approvals` (distinct
 * reviewers, this one included) reach `minApprovals`.
 */
export function voteOutcome(
  verdict: ReviewVerdict,
  approvals: number,
  minApprovals: number,
): ReviewStatusName {
  if (verdict === 'deny') return 'denied';
  return approvals >= minApprovals ? 'approved' : 'pending';
}

/** The status a timeout gives: onTimeout `allow` approves (marked timedOut), `deny` expires. */
export function timeoutStatus(onTimeout: 'deny' | 'allow'): 'approved' | 'expired' {
  return onTimeout === 'allow' ? 'approved' : 'expired';
}

/** The parts of a stored request the rules read (times in ms since the epoch). */
export interface RequestTimes {
  readonly status: ReviewStatusName;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly decidedAt: number | null;
  readonly consumedAt: number | null;
}

/** Until when an approval may be used: one timeout period after it was decided. */
export function approvalUsableUntil(request: RequestTimes): number {
  return (request.decidedAt ?? request.createdAt) + (request.expiresAt - request.createdAt);
}

/** Whether a reviewer may still answer the request. */
export function isOpen(request: RequestTimes, now: number): boolean {
  return request.status === 'pending' && now < request.expiresAt;
}

/**
 * What the gate does with a call, given the newest request bound to the same session and digest:
 * `hold` a new request, `wait` on the pending one, `expire` it first (its timeout passed),
 * `consume` its approval, or `refuse` the call (denied, or expired under onTimeout deny).
 */
export type GateStep = 'hold' | 'wait' | 'expire' | 'consume' | 'refuse';

export function gateStep(latest: RequestTimes | undefined, now: number): GateStep {
  if (!latest) return 'hold';
  switch (latest.status) {
    case 'pending':
      return now < latest.expiresAt ? 'wait' : 'expire';
    case 'approved':
      // Used, or left unused too long: the identical call needs a new approval.
      return latest.consumedAt === null && now < approvalUsableUntil(latest) ? 'consume' : 'hold';
    case 'denied':
    case 'expired':
      return 'refuse';
    case 'cancelled':
      return 'hold';
  }
}

/** A gate spec checked and in numbers. */
export interface ParsedGate {
  readonly reviewers: readonly string[];
  readonly minApprovals: number;
  readonly timeoutMs: number;
  readonly onTimeout: 'deny' | 'allow';
}

/** Checks a gate spec (the config schema already did; this guards callers that build one by hand). */
export function parseGate(gate: ReviewGateSpec): ParsedGate {
  const timeoutMs = parseDurationMs(gate.timeout);
  const problems: string[] = [];
  if (timeoutMs === undefined || timeoutMs <= 0)
    problems.push(`timeout ${JSON.stringify(gate.timeout)} is not a duration such as 4h`);
  if (!(Number.isInteger(gate.minApprovals) && gate.minApprovals >= 1 && gate.minApprovals <= 10))
    problems.push(`minApprovals ${gate.minApprovals} is not an integer from 1 to 10`);
  if (gate.onTimeout !== 'deny' && gate.onTimeout !== 'allow')
    problems.push(`onTimeout ${JSON.stringify(gate.onTimeout)} is not deny or allow`);
  const bad = gate.reviewers.filter((entry) => !/^(group|user):.+$/.test(entry));
  if (bad.length > 0) problems.push(`reviewers ${bad.join(', ')} are not group:NAME or user:ID`);
  if (problems.length > 0) {
    throw new PaddockError('PDK_REVIEW_INVALID', `review gate is invalid: ${problems.join('; ')}`);
  }
  return {
    reviewers: [...gate.reviewers],
    minApprovals: gate.minApprovals,
    timeoutMs: timeoutMs as number,
    onTimeout: gate.onTimeout,
  };
}

/**
 * What the digest covers: the exact action, resource and arguments (unredacted), versioned so
 * the binding can change without an old approval matching a new meaning.
 */
export function digestMaterial(call: Pick<HeldCall, 'action' | 'resource' | 'arguments'>): unknown {
  return { v: 1, action: call.action, resource: call.resource, arguments: call.arguments ?? null };
}
