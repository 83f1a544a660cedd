import type { Clock } from '../../core/clock.ts';
import { PaddockError } from '../../core/errors.ts';
import type { SignedCheckpoint } from '../../audit/index.ts';
import type { BundleAttestationMessage } from '../../core/channel/index.ts';
import {
  appendAuditCheckpoint,
  auditEventCodeAt,
  auditSnapshot,
  listAuditCheckpoints,
  readAuditChainLinks,
  readAuditLog,
  searchAuditLog,
} from './audit-log-queries.ts';
import { appendAuditEvents, appendChainedEvents, lastAuditEvent, readAuditEvents } from './audit-queries.ts';
import { auditSinkCursor, saveAuditSinkCursor } from './audit-sink-cursor-queries.ts';
import { listReleaseAttestations, saveReleaseAttestation } from './release-attestation-queries.ts';
import {
  addReviewApproval,
  createReviewRequest,
  decideReviewRequest,
  getReviewRequest,
  listReviewApprovals,
  listReviewRequests,
} from './review-queries.ts';
import {
  consumeReviewApproval,
  expireReviewRequests,
  findBoundReviewRequest,
  voteOnReviewRequest,
} from './review-gate-queries.ts';
import {
  beginReconcileApply,
  completeReconcileStep,
  finishReconcileApply,
  lastReconcileApply,
  listReconcileMarks,
  openReconcileApply,
} from './reconcile-queries.ts';
import {
  activateChannelIdentity,
  deactivateChannelIdentity,
  forgetChannelIdentities,
  getChannelIdentity,
  importChannelIdentities,
  isChannelWorkspaceRevoked,
  listChannelIdentities,
  revokeChannelWorkspace,
} from './channel-identity-queries.ts';
import {
  claimSessionRefresh,
  completeSessionRefresh,
  endSession,
  getSessionWithAuth,
  listSessionsDueForRefresh,
  recordSessionUse,
  writeSessionAuth,
} from './session-auth-queries.ts';
import { SESSION_COLUMNS, toSession, toUser, toWorkspace, USER_COLUMNS, WORKSPACE_COLUMNS } from './rows.ts';
import { rethrowAsStoreError, type SqlExecutor } from './sql-executor.ts';
import type {
  AuditAppendResult,
  AuditEventRecord,
  AuditChainLink,
  AuditLogEntry,
  AuditReadOptions,
  AuditSearchFilter,
  AuditSnapshot,
  NewReviewApproval,
  NewReviewRequest,
  NewReviewVote,
  NewSession,
  NewUser,
  NewWorkspace,
  ReviewApprovalRecord,
  ReviewBinding,
  ReviewRequestFilter,
  ReviewRequestRecord,
  ReviewStatus,
  ReviewVoteResult,
  ChannelIdentityRecord,
  SessionAuthUpdate,
  SessionRecord,
  SessionWithAuth,
  Store,
  UserPatch,
  UserRecord,
  WorkspaceRecord,
  NewReconcileApply,
  ReconcileApplyRecord,
  ReconcileMark,
  ReleaseAttestationRecord,
} from './store.ts';

const conflict = (message: string) => () => new PaddockError('PDK_STORE_CONFLICT', message);
const notFound = (message: string) => () => new PaddockError('PDK_STORE_NOT_FOUND', message);

/** The Store over either executor: the same statements, so both backends behave alike. */
export class SqlStore implements Store {
  readonly dialect: Store['dialect'];
  readonly schemaVersion: number;
  readonly #db: SqlExecutor;
  readonly #clock: Clock;

  constructor(db: SqlExecutor, clock: Clock, schemaVersion: number) {
    this.dialect = db.dialect;
    this.schemaVersion = schemaVersion;
    this.#db = db;
    this.#clock = clock;
  }

  #now(): number {
    return Math.floor(this.#clock.now());
  }

  async createUser(user: NewUser): Promise<UserRecord> {
    const now = this.#now();
    const rows = await this.#db
      .query(`INSERT INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) RETURNING ${USER_COLUMNS}`, [
        user.id,
        user.displayName,
        JSON.stringify(user.groups ?? []),
        user.disabled ?? false,
        now,
        now,
      ])
      .catch((error) => rethrowAsStoreError(error, { unique: conflict(`user ${user.id} already exists`) }));
    return toUser(rows[0]!);
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const rows = await this.#db.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, [id]);
    return rows[0] && toUser(rows[0]);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.#db.query(`SELECT ${USER_COLUMNS} FROM users ORDER BY id`)).map(toUser);
  }

  async updateUser(id: string, patch: UserPatch): Promise<UserRecord> {
    const now = this.#now();
    return this.#db.transaction(async (tx) => {
      // One statement with COALESCE, so concurrent patches of different fields both land.
      const rows = await tx.query(
        `UPDATE users SET display_name = COALESCE(?, display_name), groups = COALESCE(?, groups),
           disabled = COALESCE(?, disabled), updated_at = ? WHERE id = ? RETURNING ${USER_COLUMNS}`,
        [
          patch.displayName ?? null,
          patch.groups ? JSON.stringify(patch.groups) : null,
          patch.disabled ?? null,
          now,
          id,
        ],
      );
      if (!rows[0]) throw notFound(`user ${id} not found`)();
      if (patch.disabled === true) await revokeActive(tx, id, now);
      return toUser(rows[0]);
    });
  }

  async deleteUser(id: string): Promise<void> {
    const changes = await this.#db.execute('DELETE FROM users WHERE id = ?', [id]).catch((error) =>
      rethrowAsStoreError(error, {
        'foreign-key': conflict(`user ${id} owns workspaces and cannot be deleted: disable the user instead`),
      }),
    );
    if (changes === 0) throw notFound(`user ${id} not found`)();
  }

  async createWorkspace(workspace: NewWorkspace): Promise<WorkspaceRecord> {
    const now = this.#now();
    const { id, owner, profile, provider, state } = workspace;
    const rows = await this.#db
      .query(
        `INSERT INTO workspaces (${WORKSPACE_COLUMNS}) VALUES (?, ?, ?, ?, ?, 1, ?, ?) RETURNING ${WORKSPACE_COLUMNS}`,
        [id, owner, profile, provider, state, now, now],
      )
      .catch((error) =>
        rethrowAsStoreError(error, {
          unique: conflict(`workspace ${id} already exists`),
          'foreign-key': notFound(`workspace owner ${owner} is not a known user`),
        }),
      );
    return toWorkspace(rows[0]!);
  }

  async getWorkspace(id: string): Promise<WorkspaceRecord | undefined> {
    const rows = await this.#db.query(`SELECT ${WORKSPACE_COLUMNS} FROM workspaces WHERE id = ?`, [id]);
    return rows[0] && toWorkspace(rows[0]);
  }

  async listWorkspaces(filter: { readonly owner?: string } = {}): Promise<WorkspaceRecord[]> {
    const rows =
      filter.owner === undefined
        ? await this.#db.query(`SELECT ${WORKSPACE_COLUMNS} FROM workspaces ORDER BY id`)
        : await this.#db.query(`SELECT ${WORKSPACE_COLUMNS} FROM workspaces WHERE owner = ? ORDER BY id`, [
            filter.owner,
          ]);
    return rows.map(toWorkspace);
  }

  async transitionWorkspace(
    id: string,
    fromState: string,
    toState: string,
    expectedVersion: number,
  ): Promise<WorkspaceRecord> {
    // The state and version in the WHERE clause make the check and the write one atomic step.
    const rows = await this.#db.query(
      `UPDATE workspaces SET state = ?, state_version = state_version + 1, updated_at = ?
         WHERE id = ? AND state = ? AND state_version = ? RETURNING ${WORKSPACE_COLUMNS}`,
      [toState, this.#now(), id, fromState, expectedVersion],
    );
    if (rows[0]) return toWorkspace(rows[0]);
    const current = await this.getWorkspace(id);
    if (!current) throw notFound(`workspace ${id} not found`)();
    throw conflict(
      `workspace ${id} is ${current.state} at version ${current.stateVersion}, not ${fromState} at version ` +
        `${expectedVersion}: another change won; re-read the workspace and decide again`,
    )();
  }

  async createSession(session: NewSession): Promise<SessionRecord> {
    const now = this.#now();
    const { id, userId, expiresAt } = session;
    if (!(Number.isSafeInteger(expiresAt) && expiresAt > now)) {
      throw new PaddockError(
        'PDK_INTERNAL',
        `session expiresAt ${expiresAt} is not a time after now (${now})`,
      );
    }
    return this.#db.transaction(async (tx) => {
      // Locks the user row (PostgreSQL) so a concurrent disable either sees this session and
      // revokes it, or commits first and this check refuses.
      const enabled = await tx.execute(
        'UPDATE users SET updated_at = updated_at WHERE id = ? AND disabled = ?',
        [userId, false],
      );
      if (enabled === 0) {
        const user = (await tx.query('SELECT id FROM users WHERE id = ?', [userId]))[0];
        if (!user) throw notFound(`session user ${userId} is not a known user`)();
        throw conflict(`user ${userId} is disabled: enable the user before starting a session`)();
      }
      const rows = await tx
        .query(
          `INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL) RETURNING ${SESSION_COLUMNS}`,
          [id, userId, now, expiresAt, now],
        )
        .catch((error) => rethrowAsStoreError(error, { unique: conflict(`session ${id} already exists`) }));
      if (session.auth) await writeSessionAuth(tx, id, session.auth);
      return toSession(rows[0]!);
    });
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const rows = await this.#db.query(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`, [id]);
    return rows[0] && toSession(rows[0]);
  }

  async touchSession(id: string): Promise<SessionRecord | undefined> {
    const now = this.#now();
    const rows = await this.#db.query(
      // Never backwards: touches sent at once (several connections, several replicas) commit
      // in any order, and an older one landing last would idle out a session in use.
      `UPDATE sessions SET last_seen_at = CASE WHEN last_seen_at > ? THEN last_seen_at ELSE ? END
         WHERE id = ? AND revoked_at IS NULL AND expires_at > ?
         RETURNING ${SESSION_COLUMNS}`,
      [now, now, id, now],
    );
    return rows[0] && toSession(rows[0]);
  }

  async revokeSession(id: string): Promise<SessionRecord> {
    const rows = await this.#db.query(
      `UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING ${SESSION_COLUMNS}`,
      [this.#now(), id],
    );
    if (!rows[0]) throw notFound(`session ${id} not found`)();
    return toSession(rows[0]);
  }

  async revokeUserSessions(userId: string): Promise<number> {
    return revokeActive(this.#db, userId, this.#now());
  }

  async listActiveSessions(userId: string): Promise<SessionRecord[]> {
    const rows = await this.#db.query(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
         ORDER BY created_at DESC, id`,
      [userId, this.#now()],
    );
    return rows.map(toSession);
  }

  getSessionWithAuth(id: string): Promise<SessionWithAuth | undefined> {
    return getSessionWithAuth(this.#db, id);
  }

  recordSessionUse(id: string, idleMs: number): Promise<SessionWithAuth | undefined> {
    return recordSessionUse(this.#db, id, idleMs, this.#now());
  }

  listSessionsDueForRefresh(limit: number): Promise<SessionWithAuth[]> {
    return listSessionsDueForRefresh(this.#db, this.#now(), limit);
  }

  claimSessionRefresh(id: string, version: number, leaseUntil: number): Promise<number | undefined> {
    return claimSessionRefresh(this.#db, id, version, leaseUntil, this.#now());
  }

  completeSessionRefresh(id: string, version: number, update: SessionAuthUpdate): Promise<boolean> {
    return completeSessionRefresh(this.#db, id, version, update);
  }

  endSession(id: string, reason: string, revoke: boolean): Promise<SessionWithAuth | undefined> {
    return endSession(this.#db, id, reason, revoke, this.#now());
  }

  activateChannelIdentity(
    identity: Pick<ChannelIdentityRecord, 'kid' | 'workspaceId' | 'publicKeyPem'>,
  ): Promise<ChannelIdentityRecord> {
    return activateChannelIdentity(this.#db, identity, this.#now());
  }

  deactivateChannelIdentity(workspaceId: string): Promise<void> {
    return deactivateChannelIdentity(this.#db, workspaceId, this.#now());
  }

  revokeChannelWorkspace(workspaceId: string): Promise<void> {
    return revokeChannelWorkspace(this.#db, workspaceId, this.#now());
  }

  forgetChannelIdentities(workspaceId: string): Promise<void> {
    return forgetChannelIdentities(this.#db, workspaceId);
  }

  getChannelIdentity(kid: string): Promise<ChannelIdentityRecord | undefined> {
    return getChannelIdentity(this.#db, kid);
  }

  listChannelIdentities(workspaceId: string): Promise<ChannelIdentityRecord[]> {
    return listChannelIdentities(this.#db, workspaceId);
  }

  isChannelWorkspaceRevoked(workspaceId: string): Promise<boolean> {
    return isChannelWorkspaceRevoked(this.#db, workspaceId);
  }

  importChannelIdentities(
    identities: readonly ChannelIdentityRecord[],
    revokedWorkspaces: readonly string[],
  ): Promise<number> {
    return importChannelIdentities(this.#db, identities, revokedWorkspaces, this.#now());
  }

  createReviewRequest(request: NewReviewRequest): Promise<ReviewRequestRecord> {
    return createReviewRequest(this.#db, request, this.#now());
  }

  getReviewRequest(id: string): Promise<ReviewRequestRecord | undefined> {
    return getReviewRequest(this.#db, id);
  }

  listReviewRequests(filter: ReviewRequestFilter = {}): Promise<ReviewRequestRecord[]> {
    return listReviewRequests(this.#db, filter);
  }

  addReviewApproval(approval: NewReviewApproval): Promise<ReviewApprovalRecord> {
    return addReviewApproval(this.#db, approval, this.#now());
  }

  listReviewApprovals(requestId: string): Promise<ReviewApprovalRecord[]> {
    return listReviewApprovals(this.#db, requestId);
  }

  decideReviewRequest(
    id: string,
    status: Exclude<ReviewStatus, 'pending'>,
    decidedBy?: string,
  ): Promise<ReviewRequestRecord> {
    return decideReviewRequest(this.#db, { id, status, decidedBy: decidedBy ?? null }, this.#now());
  }

  findBoundReviewRequest(binding: ReviewBinding): Promise<ReviewRequestRecord | undefined> {
    return findBoundReviewRequest(this.#db, binding);
  }

  voteOnReviewRequest(vote: NewReviewVote): Promise<ReviewVoteResult> {
    return voteOnReviewRequest(this.#db, vote, this.#now());
  }

  consumeReviewApproval(binding: ReviewBinding): Promise<ReviewRequestRecord | undefined> {
    return consumeReviewApproval(this.#db, binding, this.#now());
  }

  expireReviewRequests(filter: { readonly id?: string } = {}): Promise<ReviewRequestRecord[]> {
    return expireReviewRequests(this.#db, filter, this.#now());
  }

  appendAuditEvents(batch: readonly AuditEventRecord[]): Promise<AuditAppendResult> {
    return appendAuditEvents(this.#db, batch, this.#now());
  }

  readAuditEvents(options: AuditReadOptions): Promise<AuditEventRecord[]> {
    return readAuditEvents(this.#db, options);
  }

  lastAuditEvent(source: string): Promise<AuditEventRecord | undefined> {
    return lastAuditEvent(this.#db, source);
  }

  auditSinkCursor(feed: string): Promise<number | undefined> {
    return auditSinkCursor(this.#db, feed);
  }

  saveAuditSinkCursor(feed: string, gseq: number): Promise<void> {
    return saveAuditSinkCursor(this.#db, feed, gseq, this.#now());
  }

  saveReleaseAttestation(workspaceId: string, attestation: BundleAttestationMessage): Promise<void> {
    return saveReleaseAttestation(this.#db, workspaceId, attestation, this.#now());
  }

  releaseAttestations(): Promise<ReleaseAttestationRecord[]> {
    return listReleaseAttestations(this.#db);
  }

  appendChainedAuditEvents(
    source: string,
    events: readonly Record<string, unknown>[],
  ): Promise<AuditEventRecord[]> {
    return appendChainedEvents(this.#db, source, events, this.#now());
  }

  readAuditLog(options: { afterGseq?: number; uptoGseq?: number; limit?: number }): Promise<AuditLogEntry[]> {
    return readAuditLog(this.#db, options);
  }

  readAuditChainLinks(options: {
    afterGseq?: number;
    uptoGseq?: number;
    limit?: number;
  }): Promise<AuditChainLink[]> {
    return readAuditChainLinks(this.#db, options);
  }

  searchAuditLog(filter: AuditSearchFilter): Promise<AuditLogEntry[]> {
    return searchAuditLog(this.#db, filter);
  }

  auditSnapshot(): Promise<AuditSnapshot> {
    return auditSnapshot(this.#db);
  }

  appendAuditCheckpoint(checkpoint: SignedCheckpoint): Promise<boolean> {
    return appendAuditCheckpoint(this.#db, checkpoint);
  }

  listAuditCheckpoints(options: { afterIndex?: number; limit?: number }): Promise<SignedCheckpoint[]> {
    return listAuditCheckpoints(this.#db, options);
  }

  beginReconcileApply(apply: NewReconcileApply): Promise<ReconcileApplyRecord> {
    return beginReconcileApply(this.#db, apply, this.#now());
  }

  openReconcileApply(): Promise<ReconcileApplyRecord | undefined> {
    return openReconcileApply(this.#db);
  }

  completeReconcileStep(applyId: string, index: number, marks: readonly ReconcileMark[]): Promise<void> {
    return completeReconcileStep(this.#db, applyId, index, marks, this.#now());
  }

  finishReconcileApply(applyId: string): Promise<void> {
    return finishReconcileApply(this.#db, applyId, this.#now());
  }

  lastReconcileApply(): Promise<ReconcileApplyRecord | undefined> {
    return lastReconcileApply(this.#db);
  }

  listReconcileMarks(): Promise<ReconcileMark[]> {
    return listReconcileMarks(this.#db);
  }

  auditEventCodeAt(gseq: number): Promise<string | undefined> {
    return auditEventCodeAt(this.#db, gseq);
  }

  close(): Promise<void> {
    return this.#db.close();
  }
}

function revokeActive(db: SqlExecutor, userId: string, now: number): Promise<number> {
  return db.execute(
    'UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?',
    [now, userId, now],
  );
}
