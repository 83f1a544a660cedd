import { PaddockError } from '../../core/errors.ts';
import { SESSION_COLUMNS, toSession } from './rows.ts';
import type { SqlExecutor, SqlRow } from './sql-executor.ts';
import type { JsonValue, SessionAuth, SessionAuthUpdate, SessionWithAuth } from './store.ts';

// What lets any replica carry a session (migration 0006): the sealed IdP refresh token, the
// client kind, the user as the IdP last described them, when the next re-check is due and the
// version a refresh claims. The store never sees a refresh token in the clear: it stores and
// returns the sealed text the session manager hands it.

const AUTH_COLUMNS = 'client_kind, idp_user, refresh_sealed, next_refresh_at, refresh_version, ended_reason';
const COLUMNS = `${SESSION_COLUMNS}, ${AUTH_COLUMNS}`;

function toAuth(row: SqlRow): SessionAuth | undefined {
  if (row['refresh_sealed'] === null || row['refresh_sealed'] === undefined) return undefined;
  return {
    clientKind: String(row['client_kind']) as SessionAuth['clientKind'],
    idpUser: JSON.parse(String(row['idp_user'])) as JsonValue,
    refreshSealed: String(row['refresh_sealed']),
    nextRefreshAt: Number(row['next_refresh_at']),
  };
}

function toSessionWithAuth(row: SqlRow): SessionWithAuth {
  return {
    session: toSession(row),
    auth: toAuth(row),
    refreshVersion: Number(row['refresh_version']),
    endedReason: row['ended_reason'] === null ? null : String(row['ended_reason']),
  };
}

/** Writes a new session's auth state (inside createSession's transaction). */
export async function writeSessionAuth(db: SqlExecutor, id: string, auth: SessionAuth): Promise<void> {
  await db.execute(
    'UPDATE sessions SET client_kind = ?, idp_user = ?, refresh_sealed = ?, next_refresh_at = ? WHERE id = ?',
    [auth.clientKind, JSON.stringify(auth.idpUser), auth.refreshSealed, auth.nextRefreshAt, id],
  );
}

export async function getSessionWithAuth(db: SqlExecutor, id: string): Promise<SessionWithAuth | undefined> {
  const rows = await db.query(`SELECT ${COLUMNS} FROM sessions WHERE id = ?`, [id]);
  return rows[0] && toSessionWithAuth(rows[0]);
}

/** Records activity on an active session used within `idleMs`; undefined when missing, revoked, expired or idle. */
export async function recordSessionUse(
  db: SqlExecutor,
  id: string,
  idleMs: number,
  now: number,
): Promise<SessionWithAuth | undefined> {
  const rows = await db.query(
    // Never backwards, as touchSession: uses committed out of order keep the latest.
    `UPDATE sessions SET last_seen_at = CASE WHEN last_seen_at > ? THEN last_seen_at ELSE ? END
       WHERE id = ? AND revoked_at IS NULL AND expires_at > ? AND last_seen_at > ? RETURNING ${COLUMNS}`,
    [now, now, id, now, now - Math.floor(idleMs)],
  );
  return rows[0] && toSessionWithAuth(rows[0]);
}

/** Active sessions with a refresh token whose re-check is due, oldest due first. */
export async function listSessionsDueForRefresh(
  db: SqlExecutor,
  now: number,
  limit: number,
): Promise<SessionWithAuth[]> {
  const rows = await db.query(
    `SELECT ${COLUMNS} FROM sessions WHERE revoked_at IS NULL AND expires_at > ? AND refresh_sealed IS NOT NULL
       AND next_refresh_at <= ? ORDER BY next_refresh_at, id LIMIT ?`,
    [now, now, Math.max(1, Math.min(1000, Math.floor(limit)))],
  );
  return rows.map(toSessionWithAuth);
}

/**
 * Claims the session's next refresh: only when its version is still `version`, it is active, and
 * no claim holds. An odd version is a claim in progress, its lease end in next_refresh_at; a claim
 * moves an even version to the next odd one (and an odd one whose lease ran out, whose replica
 * died, to the odd one after), and completing it makes the version even again. So a replica that
 * read the session while another held the claim cannot take it over. Resolves to the claimed
 * version, or undefined when another replica holds or got the claim or the session ended.
 */
export async function claimSessionRefresh(
  db: SqlExecutor,
  id: string,
  version: number,
  leaseUntil: number,
  now: number,
): Promise<number | undefined> {
  const claimed = version + 1 + (version % 2);
  const changed = await db.execute(
    `UPDATE sessions SET refresh_version = ?, next_refresh_at = ?
       WHERE id = ? AND refresh_version = ? AND revoked_at IS NULL AND expires_at > ?
         AND (refresh_version % 2 = 0 OR next_refresh_at <= ?)`,
    [claimed, leaseUntil, id, version, now, now],
  );
  return changed === 1 ? claimed : undefined;
}

/** Stores a refresh's outcome if the claim (`version`) still holds; resolves to whether it did. */
export async function completeSessionRefresh(
  db: SqlExecutor,
  id: string,
  version: number,
  update: SessionAuthUpdate,
): Promise<boolean> {
  const changed = await db.execute(
    `UPDATE sessions SET refresh_sealed = ?, idp_user = ?, next_refresh_at = ?, refresh_version = refresh_version + 1
       WHERE id = ? AND refresh_version = ? AND revoked_at IS NULL`,
    [update.refreshSealed, JSON.stringify(update.idpUser), update.nextRefreshAt, id, version],
  );
  return changed === 1;
}

/**
 * Records why the session ended, once: resolves to the session when this call ended it (its
 * caller audits the end), undefined when it had already ended with a reason (or is absent).
 * `revoke` also sets revoked_at (kept when set); an expiry leaves it unset.
 */
export async function endSession(
  db: SqlExecutor,
  id: string,
  reason: string,
  revoke: boolean,
  now: number,
): Promise<SessionWithAuth | undefined> {
  if (reason === '') throw new PaddockError('PDK_INTERNAL', 'a session end needs a reason');
  const rows = await db.query(
    `UPDATE sessions SET ended_reason = ?, revoked_at = ${revoke ? 'COALESCE(revoked_at, ?)' : 'revoked_at'}
       WHERE id = ? AND ended_reason IS NULL RETURNING ${COLUMNS}`,
    revoke ? [reason, now, id] : [reason, id],
  );
  return rows[0] && toSessionWithAuth(rows[0]);
}
