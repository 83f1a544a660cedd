import { sessionEvent, type SessionEventName } from '../../audit/index.ts';
import { type Clock, systemClock } from '../../core/clock.ts';
import { isPaddockError, PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { ClientKind, IdpSignIn, IdpUser } from '../identity/identity-client.ts';
import type { Principal } from '../identity/principal.ts';
import type { Roles } from '../identity/roles.ts';
import type { SessionRecord, Store } from '../store/store.ts';
import { newSessionToken, sessionIdFor } from './session-token.ts';

// Control-plane sessions: short-lived, one user each, revocable. The store holds the record
// (id = SHA-256 of the bearer token); this process holds what the store cannot: the IdP refresh
// token that re-checks the user, and the listeners to tell when a session ends (the broker
// closes live terminals on it). A sweep every second ends sessions that reached their maximum
// age, sat idle too long, or were revoked in the store by someone else, and refreshes sessions
// with the IdP; a failed refresh (user disabled at the IdP) revokes the session.
// A session this process has no refresh token for (it started before a restart) is ended at
// its next use: it could no longer be re-checked with the IdP (fail closed).

const log = createLogger('sessions');

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

interface LiveSession {
  readonly id: string;
  readonly kind: ClientKind;
  user: IdpUser;
  refreshToken: string;
  readonly expiresAt: number;
  lastSeenAt: number;
  nextRefreshAt: number;
  refreshing: boolean;
}

export class SessionManager {
  readonly #options: SessionManagerOptions;
  readonly #clock: Clock;
  readonly #refreshIntervalMs: number;
  readonly #live = new Map<string, LiveSession>();
  readonly #listeners = new Set<SessionEndedListener>();
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(options: SessionManagerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
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
    });
    const live: LiveSession = {
      id,
      kind,
      user,
      refreshToken: signIn.refreshToken,
      expiresAt: record.expiresAt,
      lastSeenAt: record.lastSeenAt,
      nextRefreshAt: now + this.#refreshIntervalMs,
      refreshing: false,
    };
    this.#live.set(id, live);
    await this.#audit('session.login', id, user, { expiresAt: record.expiresAt, source, mfa: user.mfa });
    return { token, session: this.#view(live), principal: this.#principal(live) };
  }

  /** Records a sign-in the IdP or Paddock refused (bad state, disabled user, …). */
  async loginFailed(
    reasonCode: string,
    reason: string,
    user?: IdpUser,
    source?: { readonly ip?: string },
  ): Promise<void> {
    await this.#audit(
      'session.login_failed',
      undefined,
      user ?? { userId: 'unknown', displayName: 'unknown', groups: [], subject: 'unknown', mfa: false },
      {
        reasonCode,
        reason,
        source,
      },
    );
  }

  /**
   * The principal behind a bearer token, or undefined when the token is malformed, unknown,
   * revoked, expired or idle (each ends the session where it applies). Records the activity.
   */
  async authenticate(token: string): Promise<AuthenticatedSession | undefined> {
    const id = sessionIdFor(token);
    if (!id) return undefined;
    const live = this.#live.get(id);
    if (!live) {
      const record = await this.#options.store.getSession(id);
      if (record && record.revokedAt === null && record.expiresAt > this.#clock.now()) {
        await this.#endOrphan(record, 'refresh_unavailable');
      }
      return undefined;
    }
    if (await this.#endIfDue(live)) return undefined;
    const touched = await this.#options.store.touchSession(id);
    if (!touched) {
      await this.#end(live, 'revoked', 'store_revoked');
      return undefined;
    }
    live.lastSeenAt = Math.max(live.lastSeenAt, this.#clock.now());
    return { principal: this.#principal(live), session: this.#view(live) };
  }

  /**
   * Whether the session is live: not ended, not past its maximum age or idle limit. For the
   * broker's periodic check of sessions with open terminals (no store round trip).
   */
  isActive(id: string): boolean {
    const live = this.#live.get(id);
    if (!live) return false;
    const now = this.#clock.now();
    return now < live.expiresAt && now < live.lastSeenAt + this.#options.idleMs;
  }

  /**
   * Records activity that is not an HTTP request (typing in a terminal), so a session in use
   * does not idle out. The store is told at most once a minute per session.
   */
  recordActivity(id: string): void {
    const live = this.#live.get(id);
    if (!live) return;
    const now = this.#clock.now();
    const stale = now - live.lastSeenAt >= 60_000;
    live.lastSeenAt = Math.max(live.lastSeenAt, now);
    if (stale)
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
    const live = this.#live.get(id);
    await this.#options.store.revokeSession(id).catch(ignoreNotFound);
    if (live) await this.#end(live, 'logout', 'logout');
  }

  /** Revokes one session (an administrator, or its user from another device). PDK_STORE_NOT_FOUND when absent. */
  async revoke(id: string, by: string): Promise<SessionRecord> {
    const record = await this.#options.store.revokeSession(id);
    const live = this.#live.get(id);
    const reasonCode = by === record.userId ? 'user_revoked' : 'admin_revoked';
    if (live) await this.#end(live, 'revoked', reasonCode, `revoked by ${by}`);
    return record;
  }

  /** Revokes every session of a user; resolves to how many were active. */
  async revokeUser(userId: string, by: string): Promise<number> {
    const count = await this.#options.store.revokeUserSessions(userId);
    const reasonCode = by === userId ? 'user_revoked' : 'admin_revoked';
    for (const live of [...this.#live.values()])
      if (live.user.userId === userId) await this.#end(live, 'revoked', reasonCode, `revoked by ${by}`);
    return count;
  }

  /** Calls `listener(sessionId, reason)` whenever a session ends; returns the unsubscribe function. */
  onSessionEnded(listener: SessionEndedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * One pass: ends sessions past their maximum age or idle limit, notices sessions revoked in the
   * store by someone else, and refreshes sessions due for a re-check with the IdP.
   * Concurrent calls share one pass.
   */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweepOnce().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  /** Re-checks one session with the IdP now; a failure revokes it. Resolves to whether it is still live. */
  async refresh(id: string): Promise<boolean> {
    const live = this.#live.get(id);
    if (!live || live.refreshing) return live !== undefined;
    live.refreshing = true;
    try {
      const next = await this.#options.refresher.refresh(live.kind, live.refreshToken, live.user);
      if (!this.#live.has(id)) return false;
      live.user = next.user;
      live.refreshToken = next.refreshToken;
      live.nextRefreshAt = this.#clock.now() + this.#refreshIntervalMs;
      await this.#options.store
        .updateUser(next.user.userId, { displayName: next.user.displayName, groups: next.user.groups })
        .catch((error: Error) => log.warn({ error: error.message }, 'could not update the refreshed user'));
      await this.#audit('session.refreshed', id, next.user, { expiresAt: live.expiresAt });
      return true;
    } catch (error) {
      const message = (error as Error).message;
      log.info({ session: id.slice(0, 12), error: message }, 'session refresh failed: revoking');
      await this.#options.store.revokeSession(id).catch(ignoreNotFound);
      await this.#end(live, 'refresh_failed', 'refresh_failed', message);
      return false;
    } finally {
      live.refreshing = false;
    }
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
    for (const live of [...this.#live.values()]) await this.#endIfDue(live);
    const users = new Set([...this.#live.values()].map((live) => live.user.userId));
    for (const userId of users) {
      const active = new Set(
        (await this.#options.store.listActiveSessions(userId)).map((record) => record.id),
      );
      for (const live of [...this.#live.values()])
        if (live.user.userId === userId && !active.has(live.id))
          await this.#end(live, 'revoked', 'store_revoked');
    }
    const now = this.#clock.now();
    for (const live of [...this.#live.values()]) if (live.nextRefreshAt <= now) await this.refresh(live.id);
  }

  /** Ends the session when its maximum age or idle limit passed; resolves to whether it did. */
  async #endIfDue(live: LiveSession): Promise<boolean> {
    const now = this.#clock.now();
    if (now >= live.expiresAt) {
      await this.#end(live, 'expired', 'max_age');
      return true;
    }
    if (now >= live.lastSeenAt + this.#options.idleMs) {
      await this.#options.store.revokeSession(live.id).catch(ignoreNotFound);
      await this.#end(live, 'idle_timeout', 'idle_timeout');
      return true;
    }
    return false;
  }

  async #end(
    live: LiveSession,
    reason: SessionEndReason,
    reasonCode: string,
    detail?: string,
  ): Promise<void> {
    if (this.#live.get(live.id) !== live) return; // already ended
    this.#live.delete(live.id);
    const event: SessionEventName =
      reason === 'logout'
        ? 'session.logout'
        : reason === 'expired' || reason === 'idle_timeout'
          ? 'session.expired'
          : 'session.revoked';
    this.#notify(live.id, reason);
    await this.#audit(event, live.id, live.user, { reasonCode, reason: detail, expiresAt: live.expiresAt });
  }

  async #endOrphan(record: SessionRecord, reason: SessionEndReason): Promise<void> {
    await this.#options.store.revokeSession(record.id).catch(ignoreNotFound);
    this.#notify(record.id, reason);
    const user = {
      userId: record.userId,
      displayName: record.userId,
      groups: [],
      subject: record.userId,
      mfa: false,
    };
    await this.#audit('session.revoked', record.id, user, {
      reasonCode: reason,
      reason:
        'the session started before the control plane restarted and can no longer be re-checked with the IdP',
      expiresAt: record.expiresAt,
    });
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

  #view(live: LiveSession): SessionView {
    return {
      id: live.id,
      expiresAt: live.expiresAt,
      idleExpiresAt: Math.min(live.expiresAt, live.lastSeenAt + this.#options.idleMs),
    };
  }

  #principal(live: LiveSession): Principal {
    const roles = this.#options.roles(live.user);
    return {
      userId: live.user.userId,
      displayName: live.user.displayName,
      groups: live.user.groups,
      sessionId: live.id,
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
      reason?: string;
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

function ignoreNotFound(error: unknown): void {
  if (!isPaddockError(error, 'PDK_STORE_NOT_FOUND')) throw error;
}
