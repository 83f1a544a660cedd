// The control plane's one store interface and the records it holds. Two backends
// implement it (sqlite-store.ts, postgres-store.ts) over the same SQL (sql-store.ts),
// so callers never see which database is behind it. Timestamps are integers:
// milliseconds since the epoch, taken from the store's injected clock.

import type {
  NewReviewApproval,
  NewReviewRequest,
  NewReviewVote,
  ReviewApprovalRecord,
  ReviewBinding,
  ReviewRequestFilter,
  ReviewRequestRecord,
  ReviewStatus,
  ReviewVoteResult,
} from './review-records.ts';

/** A JSON value as stored in and read back from JSON columns. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface UserRecord {
  /** The user's email address, as the identity layer normalised it. */
  readonly id: string;
  readonly displayName: string;
  /** Group names from the identity provider or assignments, in the order given. */
  readonly groups: readonly string[];
  /** A disabled user cannot start sessions; disabling revokes every active session. */
  readonly disabled: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface NewUser {
  readonly id: string;
  readonly displayName: string;
  /** Default: none. */
  readonly groups?: readonly string[];
  /** Default: false. */
  readonly disabled?: boolean;
}

export type UserPatch = Partial<Pick<UserRecord, 'displayName' | 'groups' | 'disabled'>>;

export interface WorkspaceRecord {
  readonly id: string;
  /** The owning user's id. */
  readonly owner: string;
  readonly profile: string;
  readonly provider: string;
  /** Lifecycle state; the lifecycle module owns the set of states and the allowed transitions. */
  readonly state: string;
  /** Starts at 1 and grows by one on every transition (optimistic concurrency). */
  readonly stateVersion: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type NewWorkspace = Pick<WorkspaceRecord, 'id' | 'owner' | 'profile' | 'provider' | 'state'>;

export interface SessionRecord {
  /** A public identifier (for example a digest of the token); never the bearer token itself. */
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly lastSeenAt: number;
  /** When the session was revoked; null while it has not been. */
  readonly revokedAt: number | null;
}

export interface NewSession {
  readonly id: string;
  readonly userId: string;
  /** Must be later than now. */
  readonly expiresAt: number;
}

export type {
  NewReviewApproval,
  NewReviewRequest,
  NewReviewVote,
  ReviewApprovalRecord,
  ReviewBinding,
  ReviewRequestFilter,
  ReviewRequestRecord,
  ReviewStatus,
  ReviewVoteResult,
} from './review-records.ts';

/** One event of a source's hash chain (a supervisor's spool, the control plane itself). */
export interface AuditEventRecord {
  readonly source: string;
  /** Position in the source's chain, from 1. */
  readonly seq: number;
  /** The OCSF event's `metadata.uid`; unique across every source. */
  readonly uid: string;
  /** The OCSF `class_uid`. */
  readonly classUid: number;
  /** The event's time, in milliseconds since the epoch. */
  readonly time: number;
  readonly event: JsonValue;
  readonly prevHash: string;
  readonly hash: string;
}

export interface AuditAppendResult {
  readonly inserted: number;
  /** Events whose uid was already stored with the same source, seq and hash (a replayed upload). */
  readonly skipped: number;
}

export interface AuditReadOptions {
  readonly source: string;
  /** Return events with a larger seq. Default 0 (from the start). */
  readonly afterSeq?: number;
  /** Default 1000, at most 10000. */
  readonly limit?: number;
}

/**
 * The control plane's persistent state. Every method is one transaction. Errors are
 * PaddockErrors: PDK_STORE_NOT_FOUND, PDK_STORE_CONFLICT, PDK_STORE_UNAVAILABLE.
 *
 * @example
 * const store = await openStore({ url: 'sqlite:/var/lib/paddock/controlplane.db' });
 * await store.createUser({ id: 'ada@example.com', displayName: 'Ada' });
 */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** The schema version in force after migrations ran at open. */
  readonly schemaVersion: number;

  /** PDK_STORE_CONFLICT when the id exists. */
  createUser(user: NewUser): Promise<UserRecord>;
  getUser(id: string): Promise<UserRecord | undefined>;
  /** Ordered by id. */
  listUsers(): Promise<UserRecord[]>;
  /** PDK_STORE_NOT_FOUND when absent. Setting `disabled` revokes the user's active sessions in the same transaction. */
  updateUser(id: string, patch: UserPatch): Promise<UserRecord>;
  /** Removes the user and their sessions. PDK_STORE_CONFLICT while they own workspaces. */
  deleteUser(id: string): Promise<void>;

  /** State version starts at 1. PDK_STORE_NOT_FOUND for an unknown owner, PDK_STORE_CONFLICT for a used id. */
  createWorkspace(workspace: NewWorkspace): Promise<WorkspaceRecord>;
  getWorkspace(id: string): Promise<WorkspaceRecord | undefined>;
  /** Ordered by id; only the owner's when given. */
  listWorkspaces(filter?: { readonly owner?: string }): Promise<WorkspaceRecord[]>;
  /**
   * Moves a workspace from `fromState` to `toState` if it is still at `expectedVersion`.
   * PDK_STORE_CONFLICT (naming the current state and version) when another writer got there first.
   */
  transitionWorkspace(
    id: string,
    fromState: string,
    toState: string,
    expectedVersion: number,
  ): Promise<WorkspaceRecord>;

  /** PDK_STORE_NOT_FOUND for an unknown user, PDK_STORE_CONFLICT for a used id. */
  createSession(session: NewSession): Promise<SessionRecord>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  /** Records activity on an active session; undefined when it is missing, revoked or expired. */
  touchSession(id: string): Promise<SessionRecord | undefined>;
  /** Idempotent: a revoked session keeps its first revocation time. PDK_STORE_NOT_FOUND when absent. */
  revokeSession(id: string): Promise<SessionRecord>;
  /** Revokes every active session of the user; resolves to how many were revoked. */
  revokeUserSessions(userId: string): Promise<number>;
  /** Sessions neither revoked nor expired, newest first. */
  listActiveSessions(userId: string): Promise<SessionRecord[]>;

  /** Status starts as pending. PDK_STORE_NOT_FOUND for an unknown workspace. */
  createReviewRequest(request: NewReviewRequest): Promise<ReviewRequestRecord>;
  getReviewRequest(id: string): Promise<ReviewRequestRecord | undefined>;
  /** Oldest first. */
  listReviewRequests(filter?: ReviewRequestFilter): Promise<ReviewRequestRecord[]>;
  /**
   * Records one reviewer's approval of a pending request. PDK_STORE_CONFLICT when the reviewer
   * already approved it or it is no longer pending; PDK_STORE_NOT_FOUND when absent.
   */
  addReviewApproval(approval: NewReviewApproval): Promise<ReviewApprovalRecord>;
  /** In approval order. */
  listReviewApprovals(requestId: string): Promise<ReviewApprovalRecord[]>;
  /** Closes a pending request. PDK_STORE_CONFLICT when it was already decided. */
  decideReviewRequest(
    id: string,
    status: Exclude<ReviewStatus, 'pending'>,
    decidedBy?: string,
  ): Promise<ReviewRequestRecord>;
  /** The newest request bound to the workspace, session and digest (what a retried call matches). */
  findBoundReviewRequest(binding: ReviewBinding): Promise<ReviewRequestRecord | undefined>;
  /**
   * Records a reviewer's verdict and applies it in one transaction, so concurrent votes count
   * exactly once: an approval is added (one per reviewer) and decides `approved` once the
   * request's minApprovals are reached; a deny decides `denied`. PDK_STORE_NOT_FOUND when
   * absent; PDK_STORE_CONFLICT with `details.reason` `expired` (timeout passed), `closed`
   * (no longer pending) or `duplicate` (this reviewer already approved).
   */
  voteOnReviewRequest(vote: NewReviewVote): Promise<ReviewVoteResult>;
  /**
   * Uses the bound approval: marks the oldest approved, unused request whose approval is still
   * usable (one timeout period after its decision) consumed and resolves to it. Of concurrent
   * callers exactly one gets it; the others resolve to undefined.
   */
  consumeReviewApproval(binding: ReviewBinding): Promise<ReviewRequestRecord | undefined>;
  /**
   * Applies onTimeout to pending requests whose timeout passed (only `id` when given): `deny`
   * makes them expired, `allow` approved; both marked timedOut. Resolves to the requests this
   * call decided (a concurrent vote or sweep that got there first is not repeated).
   */
  expireReviewRequests(filter?: { readonly id?: string }): Promise<ReviewRequestRecord[]>;

  /**
   * Stores a batch atomically. A uid already stored with the same source, seq and hash is
   * skipped (uploads are retried); the same uid with different content, or another event at a
   * taken (source, seq), is PDK_STORE_CONFLICT and stores nothing.
   */
  appendAuditEvents(batch: readonly AuditEventRecord[]): Promise<AuditAppendResult>;
  /** Events of one source in seq order. */
  readAuditEvents(options: AuditReadOptions): Promise<AuditEventRecord[]>;
  /** The newest event of a source (where its chain continues), or undefined. */
  lastAuditEvent(source: string): Promise<AuditEventRecord | undefined>;

  /** Releases the database; the store cannot be used afterwards. */
  close(): Promise<void>;
}
