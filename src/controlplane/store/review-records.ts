import type { JsonValue } from './store.ts';

// Review requests and approvals as the store holds them (part of the Store interface in
// store.ts). The rules that move them live in policy/review/; the queue that applies them,
// with audit, in controlplane/reviews/.

export type ReviewStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';

export interface ReviewRequestRecord {
  readonly id: string;
  /** The user whose agent asked for the action. */
  readonly requester: string;
  readonly workspaceId: string;
  /** Blueprint name and version, e.g. `code-review@1.3.0`. */
  readonly blueprint: string;
  /** The tool or action under review, e.g. `github/create_pending_review` or `POST api.github.com`. */
  readonly tool: string;
  /** Tool arguments after redaction by the blueprint's logging rules (null when it records none). */
  readonly arguments: JsonValue;
  /** Digest of the full, unredacted arguments: what an approval is bound to. */
  readonly argumentDigest: string;
  readonly status: ReviewStatus;
  readonly createdAt: number;
  /** When the review gate times out (its `onTimeout` then applies). */
  readonly expiresAt: number;
  readonly decidedAt: number | null;
  /** The reviewer who decided, or null for expiry, cancellation and pending requests. */
  readonly decidedBy: string | null;
  /** The agent session whose call was held; an approval unlocks only that session's call. Null before schema 2. */
  readonly sessionId: string | null;
  /** The agent harness, e.g. `claude-code`. */
  readonly harness: string | null;
  /** The PDP action, e.g. `mcp_call`; '' before schema 2. */
  readonly action: string;
  /** The PDP resource as recorded (redacted per the blueprint's logging). */
  readonly resource: string;
  /** Ids of the policies that decided `review`. */
  readonly ruleIds: readonly string[];
  /** The gate's reviewers when the call was held (`group:NAME`, `user:ID`). */
  readonly reviewers: readonly string[];
  readonly minApprovals: number;
  readonly onTimeout: 'deny' | 'allow';
  /** The policy bundle whose gate held the call. */
  readonly bundleId: string;
  readonly bundleVersion: string;
  /** The deciding reviewer's reason (a deny's, or the approval that completed it). */
  readonly decisionReason: string | null;
  /** Whether the timeout decided (status expired, or approved under onTimeout allow). */
  readonly timedOut: boolean;
  /** When the approved call went through; an approval is used once. */
  readonly consumedAt: number | null;
}

export interface NewReviewRequest {
  readonly id: string;
  readonly requester: string;
  readonly workspaceId: string;
  readonly blueprint: string;
  readonly tool: string;
  readonly arguments: JsonValue;
  readonly argumentDigest: string;
  readonly expiresAt: number;
  /** Default: none (then no call can use the approval). */
  readonly sessionId?: string;
  /** Default: none. */
  readonly harness?: string;
  /** Default: ''. */
  readonly action?: string;
  /** Default: ''. */
  readonly resource?: string;
  /** Default: none. */
  readonly ruleIds?: readonly string[];
  /** Default: none, so nobody may approve and only the timeout decides. */
  readonly reviewers?: readonly string[];
  /** 1..10. Default 1. */
  readonly minApprovals?: number;
  /** Default deny. */
  readonly onTimeout?: 'deny' | 'allow';
  /** Default: ''. */
  readonly bundleId?: string;
  /** Default: ''. */
  readonly bundleVersion?: string;
}

/** What a retried call is matched on: an approval unlocks only the same workspace, session and digest. */
export interface ReviewBinding {
  readonly workspaceId: string;
  readonly sessionId: string;
  readonly argumentDigest: string;
}

export interface NewReviewVote {
  readonly requestId: string;
  readonly reviewer: string;
  readonly verdict: 'approve' | 'deny';
  readonly reason: string;
}

export interface ReviewVoteResult {
  /** The request after the vote: still pending, approved or denied. */
  readonly request: ReviewRequestRecord;
  /** Distinct approvals recorded, this one included. */
  readonly approvals: number;
}

export interface ReviewApprovalRecord {
  readonly requestId: string;
  readonly reviewer: string;
  readonly comment: string | null;
  readonly createdAt: number;
}

export interface NewReviewApproval {
  readonly requestId: string;
  readonly reviewer: string;
  /** Default: none. */
  readonly comment?: string;
}

export interface ReviewRequestFilter {
  /** Default: every status. */
  readonly status?: ReviewStatus;
  /** Default: every workspace. */
  readonly workspaceId?: string;
  /** Default 100, at most 1000. */
  readonly limit?: number;
}
