import type { Decision, DecisionInput, SeverityId } from './types.ts';

// How a PDP decision maps onto OCSF's security_control profile.
//
//   decision | action_id        | disposition_id | status_id           | severity_id
//   allow    | 1 Allowed        | 1 Allowed      | 1 Success           | 1 Informational
//   deny     | 2 Denied         | 2 Blocked      | 2 Failure           | 2 Low
//   review   | 99 Other "Review"| 14 Delayed     | 99 Other "Pending"  | 1 Informational
//
// `review` is deliberately not action Allowed: nothing has been let through yet, and a SIEM
// rule on "action_id = Allowed" must not count a request a reviewer may still reject. OCSF
// reserves 99 for a source-specific action named in `action`. The resolution arrives as a
// separate review.approved (Allowed/Approved) or review.rejected (Denied/Rejected) event with
// the same metadata.correlation_uid.

interface DecisionOutcome {
  readonly actionId: number;
  readonly action: string;
  readonly dispositionId: number;
  readonly disposition: string;
  readonly statusId: number;
  readonly status: string;
  readonly severityId: SeverityId;
}

const OUTCOMES: Readonly<Record<Decision, DecisionOutcome>> = {
  allow: {
    actionId: 1,
    action: 'Allowed',
    dispositionId: 1,
    disposition: 'Allowed',
    statusId: 1,
    status: 'Success',
    severityId: 1,
  },
  deny: {
    actionId: 2,
    action: 'Denied',
    dispositionId: 2,
    disposition: 'Blocked',
    statusId: 2,
    status: 'Failure',
    severityId: 2,
  },
  review: {
    actionId: 99,
    action: 'Review',
    dispositionId: 14,
    disposition: 'Delayed',
    statusId: 99,
    status: 'Pending',
    severityId: 1,
  },
};

/** The outcome of a human review, for review.* events. */
export type ReviewOutcome = 'approved' | 'rejected' | 'expired';

/** OCSF fields for the status of any event (status_id and its caption sibling). */
export function statusFields(
  statusId: 1 | 2,
  detail?: { code?: string; detail?: string },
): Record<string, unknown> {
  return {
    status_id: statusId,
    status: statusId === 1 ? 'Success' : 'Failure',
    status_code: detail?.code,
    status_detail: detail?.detail,
  };
}

/** The policy object for a bundle: OCSF's place for "the policy that pertains to the control". */
export function bundlePolicy(bundle: DecisionInput['bundle'], applied = true): Record<string, unknown> {
  return { uid: bundle.id, version: bundle.version, type: 'Paddock policy bundle', is_applied: applied };
}

/**
 * Maps a decision to action/disposition/status/severity, the deciding bundle (`policy`) and the
 * deciding Cedar rule (`authorizations[0].policy`). The reason code becomes `status_code`.
 */
export function decisionFields(input: DecisionInput): Record<string, unknown> {
  const outcome = OUTCOMES[input.decision];
  return {
    severity_id: input.severityId ?? outcome.severityId,
    action_id: outcome.actionId,
    action: outcome.action,
    disposition_id: outcome.dispositionId,
    disposition: outcome.disposition,
    status_id: outcome.statusId,
    status: outcome.status,
    status_code: input.reasonCode,
    status_detail: input.reason,
    policy: bundlePolicy(input.bundle),
    authorizations: input.ruleId
      ? [
          {
            decision: input.decision,
            policy: { uid: input.ruleId, type: 'Cedar policy', version: input.bundle.version },
          },
        ]
      : undefined,
  };
}

/**
 * Maps the resolution of a review: approved → Allowed/Approved, rejected → Denied/Rejected,
 * expired → whatever the gate's onTimeout says (Denied/Blocked by default, Allowed/Allowed).
 */
export function reviewOutcomeFields(
  outcome: ReviewOutcome,
  onTimeout: 'allow' | 'deny',
): Record<string, unknown> {
  if (outcome === 'approved') {
    return {
      action_id: 1,
      action: 'Allowed',
      disposition_id: 8,
      disposition: 'Approved',
      ...statusFields(1),
    };
  }
  if (outcome === 'rejected') {
    return {
      action_id: 2,
      action: 'Denied',
      disposition_id: 25,
      disposition: 'Rejected',
      ...statusFields(1),
    };
  }
  const timeout = OUTCOMES[onTimeout];
  return {
    action_id: timeout.actionId,
    action: timeout.action,
    disposition_id: timeout.dispositionId,
    disposition: timeout.disposition,
    ...statusFields(1),
  };
}
