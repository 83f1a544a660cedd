// Types shared by the review gate's pure rules (this folder), the queue that applies them over
// the store (controlplane/reviews/) and the enforcement points that hold calls (supervisor:
// hooks, MCP gateway, egress gateway). Plain data only: they cross the review socket as JSON.

/** Where a review request is in its life; see REVIEW_TRANSITIONS. */
export type ReviewStatusName = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';

/** A blueprint's `spec.reviewGates`, as the config schema yields it (defaults applied). */
export interface ReviewGateSpec {
  /** Who may approve: `group:NAME` or `user:ID`. Empty means nobody (only the timeout decides). */
  readonly reviewers: readonly string[];
  /** Distinct approvals needed, 1..10. */
  readonly minApprovals: number;
  /** How long a request waits, e.g. `4h` (ms, s, m, h, d). */
  readonly timeout: string;
  /** What the timeout decides: `deny` (the request expires) or `allow` (approved by timeout). */
  readonly onTimeout: 'deny' | 'allow';
}

/** A blueprint's `spec.logging` as far as tool arguments go. Default: redacted, no patterns. */
export interface ToolArgumentLogging {
  /** `full` keeps arguments as sent, `redacted` applies `redact`, `none` records none. */
  readonly toolArguments: 'full' | 'redacted' | 'none';
  /** Regular expressions (a leading `(?i)` makes one case-insensitive). */
  readonly redact: readonly string[];
}

/** A person as the identity layer names them. */
export interface ReviewUser {
  /** Stable id: the SSO subject's email on the control plane, the login name in standalone mode. */
  readonly id: string;
  readonly name?: string;
  readonly email?: string;
  readonly groups?: readonly string[];
}

/** Someone answering a review, identified by the caller (SSO later; the local OS in standalone mode). */
export interface ReviewerIdentity extends ReviewUser {
  readonly groups: readonly string[];
  /** How the identity was established, for the audit trail, e.g. `asserted with --as by local user alice`. */
  readonly assertedBy?: string;
}

/** What a gate step means for the held call; the enforcement point turns it into its own decision event. */
export interface GateDecision {
  readonly decision: 'allow' | 'deny' | 'review';
  /** `review_requested`, `review_pending`, `review_approved`, `review_approved_by_timeout`, `review_denied`, `review_expired`. */
  readonly reasonCode: string;
  readonly reason: string;
  /** The review id: links the decision events to the review.* events. */
  readonly correlationUid: string;
}

/** A call the PDP answered `review`, as the enforcement point hands it to the review gate. */
export interface HeldCall {
  /** The user whose agent made the call; never allowed to review it. */
  readonly requester: ReviewUser;
  readonly workspaceId: string;
  /** The agent session (the PDP principal). An approval only unlocks calls of the same session. */
  readonly sessionId: string;
  /** The agent harness, e.g. `claude-code`. */
  readonly harness?: string;
  readonly blueprint: { readonly name: string; readonly version: string };
  /** The policy bundle whose review gate held the call. */
  readonly bundle: { readonly id: string; readonly version: string };
  /** The PDP action (`exec`, `write_file`, `http_request`, `mcp_call`, …). Part of the digest. */
  readonly action: string;
  /** The PDP resource (argv, path, `POST https://host/path`, `server/tool`). Part of the digest. */
  readonly resource: string;
  /** The tool as reviewers should read it, e.g. `github/create_pending_review` or `Bash`. */
  readonly tool: string;
  /** The exact arguments (JSON data). Part of the digest; recorded per `logging`. Default: none. */
  readonly arguments?: unknown;
  /** Ids of the policies that decided `review`. */
  readonly ruleIds: readonly string[];
  readonly gate: ReviewGateSpec;
  /** Default: `{ toolArguments: 'redacted', redact: [] }`. */
  readonly logging?: ToolArgumentLogging;
  /**
   * What reviewers see besides the arguments, NOT part of the digest (e.g. an HTTP request's
   * headers, which clients vary between identical retries). Recorded per `logging`, beside the
   * arguments. Default none.
   */
  readonly context?: Readonly<Record<string, unknown>>;
  /**
   * Builds the enforcement point's own decision event (`mcp.*`, `http.*`, `exec.*`, `file.*`) for
   * a gate step; the gate appends it to the audit trail. Omit (or answer undefined for a step)
   * only where the caller audits that step itself.
   */
  readonly decisionEvent?: (decision: GateDecision) => Record<string, unknown> | undefined;
}

/**
 * The gate's answer. `approved`: let exactly this call through once (the approval is used up).
 * `pending`: refuse it for now with `message` (hooks: a deny; MCP: a tool error). `denied`: refuse it.
 */
export type GateAnswer =
  | { readonly status: 'approved'; readonly reviewId: string; readonly message: string }
  | {
      readonly status: 'pending';
      readonly reviewId: string;
      readonly message: string;
      /** ISO 8601. */
      readonly expiresAt: string;
    }
  | { readonly status: 'denied'; readonly reviewId: string; readonly message: string };

export interface ReviewApprovalView {
  readonly reviewer: string;
  readonly reason: string | null;
  /** ISO 8601. */
  readonly at: string;
}

/** A review request as reviewers see it (times in ISO 8601). */
export interface ReviewView {
  readonly id: string;
  readonly status: ReviewStatusName;
  readonly requester: string;
  readonly workspaceId: string;
  readonly sessionId: string | null;
  readonly harness: string | null;
  /** `name@version`. */
  readonly blueprint: string;
  readonly tool: string;
  readonly action: string;
  readonly resource: string;
  /** Redacted per the blueprint's logging; null when it records none. */
  readonly arguments: unknown;
  /** `sha256:…` over the exact action, resource and arguments: what an approval unlocks. */
  readonly digest: string;
  readonly ruleIds: readonly string[];
  readonly reviewers: readonly string[];
  readonly minApprovals: number;
  readonly onTimeout: 'deny' | 'allow';
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly decidedAt: string | null;
  readonly decidedBy: string | null;
  readonly decisionReason: string | null;
  /** Whether the timeout decided it (expired, or approved by onTimeout allow). */
  readonly timedOut: boolean;
  /** When the approved call went through; an approval is used once. */
  readonly consumedAt: string | null;
  readonly approvals: readonly ReviewApprovalView[];
}

export interface ReviewListFilter {
  /** Default: every status. */
  readonly status?: ReviewStatusName;
  /** Default 100, at most 1000. */
  readonly limit?: number;
}

/** What reviewers act on: the review socket (standalone) or the control plane's API serves it. */
export interface ReviewInbox {
  list(filter?: ReviewListFilter): Promise<ReviewView[]>;
  /** PDK_REVIEW_NOT_FOUND when absent. */
  show(id: string): Promise<ReviewView>;
  approve(id: string, reviewer: ReviewerIdentity, reason: string): Promise<ReviewView>;
  deny(id: string, reviewer: ReviewerIdentity, reason: string): Promise<ReviewView>;
}

/** What enforcement points call when the PDP answers `review`. */
export interface ReviewGate {
  request(call: HeldCall): Promise<GateAnswer>;
}
