import { type AuditUser, findingEvent, type OcsfEvent, reviewResolvedEvent } from '../../audit/index.ts';
import { newId } from '../../core/ids.ts';
import type { ReviewerIdentity, ReviewerRefusal, ReviewVerdict } from '../../policy/index.ts';
import type { ReviewRequestRecord } from '../store/store.ts';
import { blueprintRef } from './held-request.ts';

// The review queue's own audit events. Every one carries the review id as its correlation uid,
// the id the held call's `*.review_requested` decision event carries too, so a SIEM joins the
// request, each answer, any refused answer, the timeout and the call that used the approval.
//
//   a reviewer approved (each approval)   review.approved   (the last one decides)
//   a reviewer denied                     review.rejected
//   the timeout decided                   review.expired    (onTimeout allow: action Allowed)
//   the requester tried to answer         finding.created   detector review.self_approval
//   a non-reviewer tried to answer        finding.created   detector review.not_a_reviewer

function common(record: ReviewRequestRecord, time: number) {
  return {
    time,
    reviewId: record.id,
    correlationUid: record.id,
    workspaceId: record.workspaceId,
    blueprint: blueprintRef(record.blueprint),
    requester: { uid: record.requester },
    heldAction: heldAction(record),
    bundle: { id: record.bundleId, version: record.bundleVersion },
  };
}

/** One line naming the held action, e.g. `mcp_call github/create_pending_review`. */
export function heldAction(record: Pick<ReviewRequestRecord, 'action' | 'resource' | 'tool'>): string {
  return record.action ? `${record.action} ${record.resource}` : record.tool;
}

export function auditUser(reviewer: ReviewerIdentity): AuditUser {
  return { uid: reviewer.id, name: reviewer.name, email: reviewer.email, groups: reviewer.groups };
}

function byWhom(reviewer: ReviewerIdentity): string {
  return reviewer.assertedBy ? `${reviewer.id} (${reviewer.assertedBy})` : reviewer.id;
}

/** `review.approved` for one approval (`approvals` of `minApprovals` so far) or `review.rejected`. */
export function answeredEvent(
  record: ReviewRequestRecord,
  reviewer: ReviewerIdentity,
  verdict: ReviewVerdict,
  reason: string,
  approvals: number,
  time: number,
): OcsfEvent {
  const approved = verdict === 'approve';
  const progress =
    record.status === 'approved'
      ? `approval ${approvals} of ${record.minApprovals}: approved, the identical call may go through once`
      : `approval ${approvals} of ${record.minApprovals}: still pending`;
  return reviewResolvedEvent({
    ...common(record, time),
    outcome: approved ? 'approved' : 'rejected',
    reviewer: auditUser(reviewer),
    comment: reason,
    message: approved
      ? `${byWhom(reviewer)} approved review ${record.id} (${progress})`
      : `${byWhom(reviewer)} denied review ${record.id}`,
  });
}

/** `review.expired`: the timeout decided, per the onTimeout stored with the request. */
export function expiredEvent(record: ReviewRequestRecord, time: number): OcsfEvent {
  return reviewResolvedEvent({
    ...common(record, time),
    outcome: 'expired',
    onTimeout: record.onTimeout,
    message:
      record.onTimeout === 'allow'
        ? `review ${record.id} timed out and was approved by timeout (onTimeout allow)`
        : `review ${record.id} timed out without enough approvals and expired (onTimeout deny)`,
  });
}

const TITLES: Readonly<Record<ReviewerRefusal, string>> = {
  self_approval: 'Self-approval of a held action refused',
  not_a_reviewer: 'Review answer from someone the gate does not name refused',
};

/** A refused answer: the requester or a non-reviewer tried to approve or deny. */
export function refusedAnswerEvent(
  record: ReviewRequestRecord,
  reviewer: ReviewerIdentity,
  refusal: ReviewerRefusal,
  detail: string,
  time: number,
): OcsfEvent {
  const { bundle } = common(record, time);
  return findingEvent({
    event: 'finding.created',
    findingId: newId(),
    time,
    title: TITLES[refusal],
    description: `${detail} (answer by ${byWhom(reviewer)}, held action ${heldAction(record)})`,
    detector: `review.${refusal}`,
    severityId: refusal === 'self_approval' ? 3 : 2,
    types: ['review-gate'],
    confidence: 'high',
    workspaceId: record.workspaceId,
    user: auditUser(reviewer),
    blueprint: blueprintRef(record.blueprint),
    correlationUid: record.id,
    message: detail,
    enforcement: { decision: 'deny', reasonCode: refusal, reason: detail, bundle },
  });
}
