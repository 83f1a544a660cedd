import { sessionEvent, type SessionEventName } from '../../audit/index.ts';
import { type Clock, systemClock } from '../../core/clock.ts';
import { isPaddockError, PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { ClientKind, IdpSignIn, IdpUser } from '../identity/identity-client.ts';
import type { Principal } from '../identity/principal.ts';
import type { Roles } from '../identity/roles.ts';
import type { JsonValue, SessionRecord, SessionWithAuth, Store } from '../store/store.ts';
import { SessionKey } from './session-key.ts';
import { newSessionToken, sessionIdFor } from './session-token.ts';

// Control-plane sessions: short-lived, one user each, revocable, carried by any replica. The
// store holds all of a session (id = SHA-256 of the bearer token): its record, the user as the
// IdP last described them, and the IdP refresh token that re-checks them, sealed under the
// session key (session-key.ts) and bound to the session's id. So any replica authenticates any
// session, and a restart keeps them. Every request reads the store (a revocation on one replica
// is refused on all at once). A sweep every second refreshes, on whichever replica claims it
// first in the store, the sessions due for a re-check with the IdP (a failed refresh revokes
// the session everywhere), and ends the sessions this replica has seen that reached their
// maximum age, sat idle or were revoked elsewhere, telling its listeners (the broker closes live
// terminals on it). Whoever ends a session records why in the store, once: that replica audits it.
// A session stored without a refresh token (from before sessions were shared) can no longer be
// re-checked and is ended at its next use (fail closed).

const log = createLogger('sessions');

/** How long a replica's claim on a refresh holds before another may take it over. */
const REFRESH_LEASE_MS = 60_000;
/** Sessions one sweep refreshes at most (the rest wait a second). */
const REFRESH_BATCH = 50;

/** Why a session ended, as listeners and the audit trail see it. */
export type SessionEndReason =
  | 'logout'
  | 'revoked'
  | 'user_disabled'
  | 'refresh_failed'
  | 'refresh_unavailable'
  | 'expired'
  | 'idle_timeout';

export type SessionEndedListener = (sessionId: string, reason: SessionEndReason) => void;

/** What the IdP side of a refresh looks like (the IdentityClient). */
export interface SessionRefresher {
  refresh(kind: ClientKind, refreshToken: string, previous: IdpUser): Promise<IdpSignIn>;
}

export interface SessionManagerOptions {
  readonly store: Store;
  readonly refresher: SessionRefresher;
  /** Appends one OCSF event (the control plane's audit log); a failure is logged, never swallowed silently. */
  readonly audit: (event: Record<string, unknown>) => Promise<unknown>;
  /** A user's roles from the desired state. */
  readonly roles: (user: { readonly userId: string; readonly groups: readonly string[] }) => Roles;
  /** Longest a session lives. */
  readonly maxAgeMs: number;
  /** A session unused this long ends. */
  readonly idleMs: number;
  /** How often a session is re-checked with the IdP. Default 300000 (5 min), at least 1000. */
  readonly refreshIntervalMs?: number;
  /** Must be the store's clock. Default: the system clock. */
  readonly clock?: Clock;
  /** The IdP's issuer, for the audit events. */
  readonly issuer?: string;
  /**
   * Seals the refresh tokens in the store; every replica must hold the same. Default: a key
   * for this process only (its sessions end with it): servers pass the configured one.
   */
  readonly sessionKey?: SessionKey;
}

/** A session as its own user sees it (`GET /api/me`). */
export interface SessionView {
  readonly id: string;
  readonly expiresAt: number;
  readonly idleExpiresAt: number;
}

export interface AuthenticatedSession {
  readonly principal: Principal;
  readonly session: SessionView;
}

/** What this replica remembers of a session it served: enough for isActive and its listeners. */
interface SeenSession {
  readonly id: string;
  readonly userId: string;
  readonly expiresAt: number;
  lastSeenAt: number;
  /** When this replica last wrote the activity to the store. */
  lastStoredAt: number;
}

/** The session end each reason code stands for. */
const END_REASONS: Readonly<Record<string, SessionEndReason>> = {
  logout: 'logout',
  user_revoked: 'revoked',
  admin_revoked: 'revoked',
  store_revoked: 'revoked',
  refresh_failed: 'refresh_failed',
  refresh_unavailable: 'refresh_unavailable',
  max_age: 'expired',
  idle_timeout: 'idle_timeout',
};

export class SessionManager {
  readonly #options: SessionManagerOptions;
  readonly #clock: Clock;
  readonly #key: SessionKey;
  readonly #refreshIntervalMs: number;
  readonly #seen = new Map<string, SeenSession>();
  readonly #listeners = new Set<SessionEndedListener>();
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(options: SessionManagerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#key = options.sessionKey ?? SessionKey.ephemeral();
    this.#refreshIntervalMs = Math.max(1000, options.refreshIntervalMs ?? 300_000);
  }

  get maxAgeMs(): number {
    return this.#options.maxAgeMs;
  }

  /**
   * Starts a session for a user the IdP just vouched for: records (or updates) the user, refuses
   * a user disabled in Paddock (PDK_AUTH_USER_DISABLED, audited), audits the login.
   * Resolves to the bearer token (shown once: the cookie or the CLI's session file).
   */
  async start(
    signIn: IdpSignIn,
    kind: ClientKind,
    source?: { readonly ip?: string },
  ): Promise<{ token: string; session: SessionView; principal: Principal }> {
    const { user } = signIn;
    const { store } = this.#options;
    const existing = await store.getUser(user.userId);
    if (existing?.disabled) {
      await this.#audit('session.login_failed', undefined, user, {
        reasonCode: 'user_disabled',
        reason: `${user.userId} is disabled in Paddock`,
        source,
      });
      throw new PaddockError('PDK_AUTH_USER_DISABLED', `${user.userId} is disabled`);
    }
    if (existing) await store.updateUser(user.userId, { displayName: user.displayName, groups: user.groups });
    else await store.createUser({ id: user.userId, displayName: user.displayName, groups: user.groups });
    const { token, id } = newSessionToken();
    const now = this.#clock.now();
    const record = await store.createSession({
      id,
      userId: user.userId,
      expiresAt: now + this.#options.maxAgeMs,
      auth: {
        clientKind: kind,
        idpUser: userJson(user),
        refreshSealed: this.#key.seal(id, signIn.refreshToken),
        nextRefreshAt: Math.floor(now + this.#refreshIntervalMs),
      },
    });
    const seen = this.#remember(record);
    await this.#audit('session.login', id, user, { expiresAt: record.expiresAt, source, mfa: user.mfa });
    return { token, session: this.#view(seen), principal: this.#principal(id, user) };
  }

  /** Records a sign-in the IdP or Paddock refused (bad state, disabled user, …). */
  async loginFailed(
    reasonCode: string,
    reason: string,
    user?: IdpUser,
    source?: { readonly ip?: string },
  ): Promise<void> {
    await this.#audit('session.login_failed', undefined, user ?? unknownUser('unknown'), {
      reasonCode,
      reason,
      source,
    });
  }

  /**
   * The principal behind a bearer token, or undefined when the token is malformed, unknown,
   * revoked, expired or idle (each ends the session where it applies). Records the activity.
   * Reads the store every time, so a session revoked on any replica is refused here at once.
   */
  async authenticate(token: string): Promise<AuthenticatedSession | undefined> {
    const id = sessionIdFor(token);
    if (!id) return undefined;
    const used = await this.#options.store.recordSessionUse(id, this.#options.idleMs);
    if (!used) {
      const current = await this.#options.store.getSessionWithAuth(id);
      if (current) await this.#endInactive(current);
      return undefined;
    }
    if (!this.#canRecheck(used)) {
      await this.#finish(used, 'refresh_unavailable', true, {
        reason: used.auth
          ? "the stored refresh token does not open with this control plane's session key"
          : 'the session was stored without a refresh token and can no longer be re-checked with the IdP',
      });
      return undefined;
    }
    const seen = this.#remember(used.session);
    seen.lastStoredAt = used.session.lastSeenAt;
    return {
      principal: this.#principal(id, idpUserOf(used)),
      session: this.#view(seen),
    };
  }

  /**
   * Whether a session this replica served is live: not ended, not past its maximum age or idle
   * limit. For the broker's periodic check of sessions with open terminals (no store round trip;
   * a revocation elsewhere is seen by the next sweep, within about a second).
   */
  isActive(id: string): boolean {
    const seen = this.#seen.get(id);
    if (!seen) return false;
    const now = this.#clock.now();
    return now < seen.expiresAt && now < seen.lastSeenAt + this.#options.idleMs;
  }

  /**
   * Records activity that is not an HTTP request (typing in a terminal), so a session in use
   * does not idle out. The store is told at most once a minute per session.
   */
  recordActivity(id: string): void {
    const seen = this.#seen.get(id);
    if (!seen) return;
    const now = this.#clock.now();
    seen.lastSeenAt = Math.max(seen.lastSeenAt, now);
    if (now - seen.lastStoredAt < 60_000) return;
    seen.lastStoredAt = now;
    this.#options.store
      .touchSession(id)
      .catch((error: Error) => log.warn({ error: error.message }, 'could not record session activity'));
  }

  /** Sessions neither revoked nor expired: one user's, or everyone's. */
  async list(userId?: string): Promise<SessionRecord[]> {
    const { store } = this.#options;
    if (userId !== undefined) return store.listActiveSessions(userId);
    const users = await store.listUsers();
    const all = (await Promise.all(users.map((user) => store.listActiveSessions(user.id)))).flat();
    return all.sort((a, b) => b.createdAt - a.createdAt);
  }

  /** The session record; undefined when absent. */
  get(id: string): Promise<SessionRecord | undefined> {
    return this.#options.store.getSession(id);
  }

  /** Ends a session at its user's request (sign-out). */
  async logout(id: string): Promise<void> {
    const ended = await this.#options.store.endSession(id, 'logout', true);
    if (ended) await this.#ended(ended, 'logout');
    else {
      await this.#options.store.revokeSession(id).catch(ignoreNotFound);
      this.#forget(id, 'logout');
    }
  }

  /** Revokes one session (an administrator, or its user from another device). PDK_STORE_NOT_FOUND when absent. */
  async revoke(id: string, by: string): Promise<SessionRecord> {
    const before = await this.#options.store.getSession(id);
    const reasonCode = before && by === before.userId ? 'user_revoked' : 'admin_revoked';
    const ended = await this.#options.store.endSession(id, reasonCode, true);
    if (ended) {
      await this.#ended(ended, reasonCode, `revoked by ${by}`);
      return ended.session;
    }
    const record = await this.#options.store.revokeSession(id);
    this.#forget(id, 'revoked');
    return record;
  }

  /** Revokes every session of a user; resolves to how many were active. */
  async revokeUser(userId: string, by: string): Promise<number> {
    const { store } = this.#options;
    const reasonCode = by === userId ? 'user_revoked' : 'admin_revoked';
    let count = 0;
    for (const record of await store.listActiveSessions(userId)) {
      const ended = await store.endSession(record.id, reasonCode, true);
      if (!ended) continue;
      count += 1;
      await this.#ended(ended, reasonCode, `revoked by ${by}`);
    }
    count += await store.revokeUserSessions(userId); // any started meanwhile
    for (const seen of [...this.#seen.values()]) if (seen.userId === userId) this.#forget(seen.id, 'revoked');
    return count;
  }

  /** Calls `listener(sessionId, reason)` whenever a session ends; returns the unsubscribe function. */
  onSessionEnded(listener: SessionEndedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * One pass: ends the sessions this replica served that passed their maximum age or idle limit
   * or were revoked elsewhere, and refreshes the sessions (any replica's) due for a re-check
   * with the IdP, each claimed in the store first. Concurrent calls share one pass.
   */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweepOnce().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  /**
   * Re-checks one session with the IdP now (unless another replica is doing so); a failure
   * revokes it everywhere. Resolves to whether it is still live.
   */
  async refresh(id: string): Promise<boolean> {
    const current = await this.#options.store.getSessionWithAuth(id);
    if (!current || !isLive(current.session, this.#clock.now())) return false;
    return this.#refresh(current);
  }

  /** Sweeps every `intervalMs` (default 1000) so ended sessions are noticed within about a second. */
  startSweeper(intervalMs = 1000): void {
    this.stopSweeper();
    this.#sweeper = setInterval(
      () => {
        this.sweep().catch((error: Error) => log.error({ error: error.message }, 'session sweep failed'));
      },
      Math.max(100, intervalMs),
    );
    this.#sweeper.unref();
  }

  stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  async #sweepOnce(): Promise<void> {
    const { store } = this.#options;
    const users = new Set([...this.#seen.values()].map((seen) => seen.userId));
    for (const userId of users) {
      const active = new Map((await store.listActiveSessions(userId)).map((record) => [record.id, record]));
      for (const seen of [...this.#seen.values()]) {
        if (seen.userId !== userId) continue;
        const record = active.get(seen.id);
        if (record) seen.lastSeenAt = Math.max(seen.lastSeenAt, record.lastSeenAt);
        const now = this.#clock.now();
        if (record && now < seen.expiresAt && now < seen.lastSeenAt + this.#options.idleMs) continue;
        const current = await store.getSessionWithAuth(seen.id);
        if (current) await this.#endInactive(current, seen);
        else this.#forget(seen.id, 'revoked');
      }
    }
    for (const due of await store.listSessionsDueForRefresh(REFRESH_BATCH)) await this.#refresh(due);
  }

  /**
   * Whether the session can be re-checked with the IdP: its refresh token is stored and opens
   * with this key for this session (a token sealed under another key, or moved from another
   * session's row, does not). Checked on every use, so such a session is never served.
   */
  #canRecheck(current: SessionWithAuth): boolean {
    if (!current.auth) return false;
    try {
      this.#key.open(current.session.id, current.auth.refreshSealed);
      return true;
    } catch {
      return false;
    }
  }

  /** Claims the refresh in the store, re-checks with the IdP, stores the outcome; a failure revokes. */
  async #refresh(current: SessionWithAuth): Promise<boolean> {
    const { store } = this.#options;
    const id = current.session.id;
    if (!current.auth) {
      await this.#finish(current, 'refresh_unavailable', true, {
        reason: 'the session was stored without a refresh token and can no longer be re-checked with the IdP',
      });
      return false;
    }
    const now = this.#clock.now();
    const claimed = await store.claimSessionRefresh(
      id,
      current.refreshVersion,
      Math.floor(now + REFRESH_LEASE_MS),
    );
    // Another replica is refreshing it (or it ended): this one leaves it be.
    if (claimed === undefined) return Boolean((await store.getSession(id))?.revokedAt === null);
    const previous = idpUserOf(current);
    try {
      const refreshToken = this.#key.open(id, current.auth.refreshSealed);
      const next = await this.#options.refresher.refresh(current.auth.clientKind, refreshToken, previous);
      const stored = await store.completeSessionRefresh(id, claimed, {
        idpUser: userJson(next.user),
        refreshSealed: this.#key.seal(id, next.refreshToken),
        nextRefreshAt: Math.floor(this.#clock.now() + this.#refreshIntervalMs),
      });
      if (!stored) return false; // revoked meanwhile
      await store
        .updateUser(next.user.userId, { displayName: next.user.displayName, groups: next.user.groups })
        .catch((error: Error) => log.warn({ error: error.message }, 'could not update the refreshed user'));
      await this.#audit('session.refreshed', id, next.user, { expiresAt: current.session.expiresAt });
      return true;
    } catch (error) {
      const message = (error as Error).message;
      log.info({ session: id.slice(0, 12), error: message }, 'session refresh failed: revoking');
      await this.#finish(current, 'refresh_failed', true, { reason: message });
      return false;
    }
  }

  /** Ends a session the store no longer accepts (revoked elsewhere, expired, idle), as the store says why. */
  async #endInactive(current: SessionWithAuth, seen?: SeenSession): Promise<void> {
    const { session } = current;
    const now = this.#clock.now();
    if (session.revokedAt !== null || current.endedReason !== null) {
      await this.#finish(current, 'store_revoked', true, {});
      return;
    }
    if (now >= session.expiresAt) {
      await this.#finish(current, 'max_age', false, {});
      return;
    }
    const lastSeenAt = Math.max(session.lastSeenAt, seen?.lastSeenAt ?? 0);
    if (now >= lastSeenAt + this.#options.idleMs) await this.#finish(current, 'idle_timeout', true, {});
  }

  /**
   * Ends the session with `reasonCode` unless someone already ended it: the replica whose end
   * the store records audits it; every replica tells its listeners of the end the store records.
   */
  async #finish(
    current: SessionWithAuth,
    reasonCode: string,
    revoke: boolean,
    extra: { readonly reason?: string },
  ): Promise<void> {
    const ended = await this.#options.store.endSession(current.session.id, reasonCode, revoke);
    if (ended) {
      await this.#ended(ended, reasonCode, extra.reason);
      return;
    }
    const latest = await this.#options.store.getSessionWithAuth(current.session.id);
    this.#forget(current.session.id, END_REASONS[latest?.endedReason ?? ''] ?? 'revoked');
  }

  /** Audits an end this replica recorded, and tells the listeners. */
  async #ended(ended: SessionWithAuth, reasonCode: string, detail?: string): Promise<void> {
    const reason = END_REASONS[reasonCode] ?? 'revoked';
    const event: SessionEventName =
      reason === 'logout'
        ? 'session.logout'
        : reason === 'expired' || reason === 'idle_timeout'
          ? 'session.expired'
          : 'session.revoked';
    this.#seen.delete(ended.session.id);
    this.#notify(ended.session.id, reason);
    await this.#audit(event, ended.session.id, idpUserOf(ended), {
      reasonCode,
      reason: detail,
      expiresAt: ended.session.expiresAt,
    });
  }

  /** Drops a session this replica served and tells the listeners (someone else audited its end). */
  #forget(id: string, reason: SessionEndReason): void {
    if (!this.#seen.delete(id)) return;
    this.#notify(id, reason);
  }

  #remember(record: SessionRecord): SeenSession {
    const seen = this.#seen.get(record.id);
    if (seen) {
      seen.lastSeenAt = Math.max(seen.lastSeenAt, record.lastSeenAt);
      return seen;
    }
    const fresh: SeenSession = {
      id: record.id,
      userId: record.userId,
      expiresAt: record.expiresAt,
      lastSeenAt: record.lastSeenAt,
      lastStoredAt: record.lastSeenAt,
    };
    this.#seen.set(record.id, fresh);
    return fresh;
  }

  #notify(id: string, reason: SessionEndReason): void {
    for (const listener of this.#listeners) {
      try {
        listener(id, reason);
      } catch (error) {
        log.error({ error: (error as Error).message }, 'session-ended listener failed');
      }
    }
  }

  #view(seen: SeenSession): SessionView {
    return {
      id: seen.id,
      expiresAt: seen.expiresAt,
      idleExpiresAt: Math.min(seen.expiresAt, seen.lastSeenAt + this.#options.idleMs),
    };
  }

  #principal(sessionId: string, user: IdpUser): Principal {
    const roles = this.#options.roles(user);
    return {
      userId: user.userId,
      displayName: user.displayName,
      groups: user.groups,
      sessionId,
      admin: roles.admin,
      reviewer: roles.reviewer,
    };
  }

  async #audit(
    event: SessionEventName,
    sessionId: string | undefined,
    user: IdpUser,
    extra: {
      reasonCode?: string;
      reason?: string | undefined;
      expiresAt?: number;
      source?: { readonly ip?: string } | undefined;
      mfa?: boolean;
    },
  ): Promise<void> {
    const built = sessionEvent({
      event,
      sessionId,
      time: this.#clock.now(),
      issuer: this.#options.issuer,
      user: {
        uid: user.subject,
        name: user.displayName,
        email: user.userId.includes('@') ? user.userId : undefined,
        groups: user.groups,
      },
      source: extra.source?.ip ? { ip: extra.source.ip } : undefined,
      expiresAt: extra.expiresAt,
      reasonCode: extra.reasonCode,
      reason: extra.reason,
      mfa: extra.mfa,
      message: `${event} ${user.userId}${extra.reasonCode ? ` (${extra.reasonCode})` : ''}`,
    });
    try {
      await this.#options.audit(built);
    } catch (error) {
      log.error({ event, error: (error as Error).message }, 'audit write failed');
      throw error;
    }
  }
}

function isLive(session: SessionRecord, now: number): boolean {
  return session.revokedAt === null && session.expiresAt > now;
}

function userJson(user: IdpUser): JsonValue {
  return {
    userId: user.userId,
    displayName: user.displayName,
    groups: [...user.groups],
    subject: user.subject,
    mfa: user.mfa,
  };
}

function unknownUser(userId: string): IdpUser {
  return { userId, displayName: userId, groups: [], subject: userId, mfa: false };
}

/** The user the IdP last described for the session (the record's user id when none is stored). */
function idpUserOf(current: SessionWithAuth): IdpUser {
  const stored = current.auth?.idpUser as Partial<IdpUser> | undefined;
  if (!stored || typeof stored.userId !== 'string') return unknownUser(current.session.userId);
  return {
    userId: stored.userId,
    displayName: typeof stored.displayName === 'string' ? stored.displayName : stored.userId,
    groups: Array.isArray(stored.groups)
      ? stored.groups.filter((g): g is string => typeof g === 'string')
      : [],
    subject: typeof stored.subject === 'string' ? stored.subject : stored.userId,
    mfa: stored.mfa === true,
  };
}

function ignoreNotFound(error: unknown): void {
  if (!isPaddockError(error, 'PDK_STORE_NOT_FOUND')) throw error;
}
