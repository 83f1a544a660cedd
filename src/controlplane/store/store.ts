// The control plane's one store interface and the records it holds. Two backends
// implement it (sqlite-store.ts, postgres-store.ts) over the same SQL (sql-store.ts),
// so callers never see which database is behind it. Timestamps are integers:
// milliseconds since the epoch, taken from the store's injected clock.

import type { SignedCheckpoint } from '../../audit/index.ts';
import type { BundleAttestationMessage } from '../../core/channel/index.ts';
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

/** A workspace's latest policy bundle attestation (`bundle_attest`, docs/releases.md). */
export interface ReleaseAttestationRecord {
  /** The workspace the channel connection authenticated. */
  readonly workspaceId: string;
  /** When the control plane received it, ISO 8601. */
  readonly receivedAt: string;
  readonly attestation: BundleAttestationMessage;
}

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
  /** What re-checks the user with the IdP (any replica may); absent for a session that cannot be. */
  readonly auth?: SessionAuth;
}

/** How a session is re-checked with the IdP; the refresh token only ever sealed (see session-key.ts). */
export interface SessionAuth {
  readonly clientKind: 'web' | 'cli';
  /** The user as the IdP last described them (opaque to the store). */
  readonly idpUser: JsonValue;
  /** The IdP refresh token sealed under the session key, bound to the session's id. */
  readonly refreshSealed: string;
  readonly nextRefreshAt: number;
}

export type SessionAuthUpdate = Pick<SessionAuth, 'idpUser' | 'refreshSealed' | 'nextRefreshAt'>;

export interface SessionWithAuth {
  readonly session: SessionRecord;
  /** Undefined for a session stored without one (it cannot be re-checked). */
  readonly auth: SessionAuth | undefined;
  /** Bumped by every refresh claim and completion (optimistic concurrency). */
  readonly refreshVersion: number;
  /** Why it ended, once someone ended it (that replica audited it); null while it has not. */
  readonly endedReason: string | null;
}

export type ChannelIdentityStatus = 'active' | 'rotated' | 'revoked';

/** A workspace's channel identity: its public key only. */
export interface ChannelIdentityRecord {
  readonly kid: string;
  readonly workspaceId: string;
  /** SPKI PEM. */
  readonly publicKeyPem: string;
  readonly status: ChannelIdentityStatus;
  readonly issuedAt: number;
  readonly retiredAt: number | null;
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

/** One run of `paddock apply`: the plan it carries out, at which commit, approved by whom. */
export interface ReconcileApplyRecord {
  readonly id: string;
  readonly commit: string;
  readonly plan: JsonValue;
  readonly approvedBy: string;
  readonly status: 'open' | 'done';
  readonly createdAt: number;
  readonly finishedAt: number | null;
  /** Indexes of the plan's steps already carried out, ascending. */
  readonly doneSteps: readonly number[];
}

export type NewReconcileApply = Pick<ReconcileApplyRecord, 'id' | 'commit' | 'plan' | 'approvedBy'>;

/** What a reconciled object was last built or released from (a workspace's profile, a blueprint's bundle). */
export interface ReconcileMark {
  readonly kind: 'workspace' | 'bundle';
  /** The workspace id or the blueprint name. */
  readonly name: string;
  /** The content digest it was built or released from. */
  readonly hash: string;
  /** Free text: a workspace's image, a bundle's id. */
  readonly detail: string;
  readonly commit: string;
}

/** One event of a source's hash chain (a supervisor's spool, the control plane itself). */
export interface AuditEventRecord {
  readonly source: string;
  /** Position in the source's chain, from 1. */
  readonly seq: number;
  /** The OCSF event's `metadata.uid`; unique across every source. */
  readonly uid: string;
  /** The OCSF `class_uid`. */
  readonly classUid: number;
  /** The chain record's time (covered by its hash), in milliseconds since the epoch. */
  readonly time: number;
  readonly event: JsonValue;
  readonly prevHash: string;
  readonly hash: string;
}

export interface AuditAppendResult {
  readonly inserted: number;
  /** Events whose uid was already stored with the same source, seq and hash (a replayed upload). */
  readonly skipped: number;
  /** Where each source of the batch now ends: what an uploader may mark acknowledged. */
  readonly heads: readonly AuditChainHead[];
}

/** Where one source's chain ends in the store. */
export interface AuditChainHead {
  readonly source: string;
  readonly seq: number;
  readonly hash: string;
}

/** One stored event in the global order, its event text as stored (canonical JSON). */
export interface AuditLogEntry {
  /** Global sequence number: the order events were committed in, over every source, from 1. */
  readonly gseq: number;
  readonly source: string;
  readonly seq: number;
  readonly uid: string;
  readonly classUid: number;
  /** The chain record's time (covered by its hash), milliseconds since the epoch. */
  readonly time: number;
  /** The OCSF event in canonical JSON, exactly the bytes its hash covers. */
  readonly eventJson: string;
  readonly prevHash: string;
  readonly hash: string;
}

/**
 * One stored event as verification reads it: its place in the chains and `hashed`, the exact
 * text its hash covers ('{"event":' + event + ',"prev":"' + prevHash + '","seq":' + seq +
 * ',"time":' + time + '}', as recordHashOfCanonical builds it), assembled by the database.
 */
export interface AuditChainLink {
  readonly gseq: number;
  readonly source: string;
  readonly seq: number;
  readonly uid: string;
  readonly time: number;
  readonly prevHash: string;
  readonly hash: string;
  readonly hashed: string;
}

/** Filters for searchAuditLog; all given ones must match. */
export interface AuditSearchFilter {
  /** The actor's email, else their identity-provider uid. */
  readonly user?: string;
  /** The workspace id (the event's device.uid). */
  readonly workspace?: string;
  readonly classUid?: number;
  /** The event name, e.g. `egress.denied`. */
  readonly eventCode?: string;
  readonly decision?: 'allow' | 'deny' | 'review';
  readonly source?: string;
  /** Record time from (inclusive), milliseconds since the epoch. */
  readonly since?: number;
  /** Record time until (exclusive). */
  readonly until?: number;
  readonly afterGseq?: number;
  /** Default 100, at most 10000. */
  readonly limit?: number;
  /** Take the newest `limit` matches instead of the oldest (still returned oldest first). */
  readonly newest?: boolean;
}

/** The global sequence and every chain head at one instant, and the newest checkpoint. */
export interface AuditSnapshot {
  readonly gseq: number;
  /** Sorted by source (UTF-16 code units). */
  readonly heads: readonly AuditChainHead[];
  readonly lastCheckpoint?: SignedCheckpoint;
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
  /** The session with its IdP re-check state. */
  getSessionWithAuth(id: string): Promise<SessionWithAuth | undefined>;
  /**
   * Records activity on an active session unused for less than `idleMs` and resolves to it with
   * its auth; undefined when missing, revoked, expired or idle.
   */
  recordSessionUse(id: string, idleMs: number): Promise<SessionWithAuth | undefined>;
  /** Active sessions with a refresh token whose re-check is due now, oldest due first. */
  listSessionsDueForRefresh(limit: number): Promise<SessionWithAuth[]>;
  /**
   * Claims a session's refresh if its refresh version is still `version` (another replica's
   * claim bumps it): next_refresh_at moves to `leaseUntil`. Resolves to the claimed version,
   * or undefined when someone else claimed it or the session ended.
   */
  claimSessionRefresh(id: string, version: number, leaseUntil: number): Promise<number | undefined>;
  /** Stores a refresh's outcome while the claim (`version`) holds and the session is active; resolves to whether it did. */
  completeSessionRefresh(id: string, version: number, update: SessionAuthUpdate): Promise<boolean>;
  /**
   * Records why a session ended (`revoke` also revokes it), once: resolves to the session when
   * this call ended it, undefined when it had already ended with a reason or is absent.
   */
  endSession(id: string, reason: string, revoke: boolean): Promise<SessionWithAuth | undefined>;

  /**
   * Makes the identity its workspace's only active channel key (earlier ones rotated).
   * PDK_CHANNEL_UNAUTHENTICATED for a revoked workspace or a kid already known.
   */
  activateChannelIdentity(
    identity: Pick<ChannelIdentityRecord, 'kid' | 'workspaceId' | 'publicKeyPem'>,
  ): Promise<ChannelIdentityRecord>;
  /** Retires the workspace's active channel key. */
  deactivateChannelIdentity(workspaceId: string): Promise<void>;
  /** Revokes every channel key of the workspace and refuses it new ones, for good. Idempotent. */
  revokeChannelWorkspace(workspaceId: string): Promise<void>;
  /** Forgets the workspace's channel keys; a revoked workspace stays refused. */
  forgetChannelIdentities(workspaceId: string): Promise<void>;
  getChannelIdentity(kid: string): Promise<ChannelIdentityRecord | undefined>;
  /** The workspace's channel keys, oldest first. */
  listChannelIdentities(workspaceId: string): Promise<ChannelIdentityRecord[]>;
  isChannelWorkspaceRevoked(workspaceId: string): Promise<boolean>;
  /** Imports identities kept before in a file (known kids are kept); resolves to how many were added. */
  importChannelIdentities(
    identities: readonly ChannelIdentityRecord[],
    revokedWorkspaces: readonly string[],
  ): Promise<number>;

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
   * Stores a batch of chain records atomically, each with the next global sequence number. A
   * uid already stored with the same source, seq and hash is skipped (uploads are retried); the
   * same uid with different content, another event at a taken (source, seq), a gap after the
   * source's head or a prev that does not link is PDK_STORE_CONFLICT; a record whose hash does
   * not match its content is PDK_AUDIT_CHAIN_BROKEN. Either way nothing is stored.
   */
  appendAuditEvents(batch: readonly AuditEventRecord[]): Promise<AuditAppendResult>;
  /**
   * Appends OCSF events to `source`'s chain with seq, prev and hash computed by the store under
   * the ingest lock (for the control plane's own events: any replica, or the CLI, may write).
   */
  appendChainedAuditEvents(
    source: string,
    events: readonly Record<string, unknown>[],
  ): Promise<AuditEventRecord[]>;
  /** Events in global order with gseq in (afterGseq, uptoGseq]. Default limit 1000, at most 10000. */
  readAuditLog(options: {
    readonly afterGseq?: number;
    readonly uptoGseq?: number;
    readonly limit?: number;
  }): Promise<AuditLogEntry[]>;
  /** readAuditLog for verification: each event's chain columns and the text its hash covers. */
  readAuditChainLinks(options: {
    readonly afterGseq?: number;
    readonly uptoGseq?: number;
    readonly limit?: number;
  }): Promise<AuditChainLink[]>;
  searchAuditLog(filter: AuditSearchFilter): Promise<AuditLogEntry[]>;
  auditSnapshot(): Promise<AuditSnapshot>;
  /** Stores a signed checkpoint; false when its index is already taken. */
  appendAuditCheckpoint(checkpoint: SignedCheckpoint): Promise<boolean>;
  /** Oldest first. Default limit 1000, at most 10000. */
  listAuditCheckpoints(options: {
    readonly afterIndex?: number;
    readonly limit?: number;
  }): Promise<SignedCheckpoint[]>;
  /** The event name stored at a global sequence number. */
  auditEventCodeAt(gseq: number): Promise<string | undefined>;
  /** Events of one source in seq order. */
  readAuditEvents(options: AuditReadOptions): Promise<AuditEventRecord[]>;
  /** The newest event of a source (where its chain continues), or undefined. */
  lastAuditEvent(source: string): Promise<AuditEventRecord | undefined>;
  /** Where a sinks feed stands (the last gseq handed on and delivered), or undefined before its first save. */
  auditSinkCursor(feed: string): Promise<number | undefined>;
  /** Saves a sinks feed's cursor; a value below the stored one is ignored (it never moves back). */
  saveAuditSinkCursor(feed: string, gseq: number): Promise<void>;

  /**
   * Signed policy releases: records what a workspace's supervisor attests it enforces, replacing
   * its previous attestation. `workspaceId` must be the one its channel connection authenticated.
   */
  saveReleaseAttestation(workspaceId: string, attestation: BundleAttestationMessage): Promise<void>;
  /** Every workspace's latest attestation, by workspace id. */
  releaseAttestations(): Promise<ReleaseAttestationRecord[]>;

  /**
   * The reconciler (src/controlplane/reconciler): records an apply with its plan before any
   * step runs. PDK_STORE_CONFLICT while another apply is open (at most one at a time).
   */
  beginReconcileApply(apply: NewReconcileApply): Promise<ReconcileApplyRecord>;
  /** The apply in progress (with the steps already done), if any. */
  openReconcileApply(): Promise<ReconcileApplyRecord | undefined>;
  /** Marks a step done and stores its marks, in one transaction. PDK_STORE_CONFLICT when already done. */
  completeReconcileStep(applyId: string, index: number, marks: readonly ReconcileMark[]): Promise<void>;
  /** Closes an apply. PDK_STORE_NOT_FOUND when it is not open. */
  finishReconcileApply(applyId: string): Promise<void>;
  /** The newest finished apply. */
  lastReconcileApply(): Promise<ReconcileApplyRecord | undefined>;
  /** Every mark, ordered by kind and name. */
  listReconcileMarks(): Promise<ReconcileMark[]>;

  /** Releases the database; the store cannot be used afterwards. */
  close(): Promise<void>;
}
