import { PaddockError } from '../../core/errors.ts';
import { rethrowAsStoreError, type SqlExecutor, type SqlRow } from './sql-executor.ts';
import type { ChannelIdentityRecord, ChannelIdentityStatus } from './store.ts';

// Workspace channel identities (migration 0006): public keys by kid, and the workspaces revoked
// for good. Every change is one transaction, so a key is never active next to another of its
// workspace, and a revocation cannot interleave with an issue: any replica reading after the
// commit sees it (nothing is cached).

const COLUMNS = 'kid, workspace_id, public_key_pem, status, issued_at, retired_at';

function toIdentity(row: SqlRow): ChannelIdentityRecord {
  return {
    kid: String(row['kid']),
    workspaceId: String(row['workspace_id']),
    publicKeyPem: String(row['public_key_pem']),
    status: String(row['status']) as ChannelIdentityStatus,
    issuedAt: Number(row['issued_at']),
    retiredAt: row['retired_at'] === null ? null : Number(row['retired_at']),
  };
}

function refusedRevoked(workspaceId: string): PaddockError {
  return new PaddockError(
    'PDK_CHANNEL_UNAUTHENTICATED',
    `workspace ${workspaceId} was revoked and gets no channel identity`,
  );
}

async function isRevoked(db: SqlExecutor, workspaceId: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 AS revoked FROM channel_revoked_workspaces WHERE workspace_id = ?', [
    workspaceId,
  ]);
  return rows.length > 0;
}

async function retire(
  db: SqlExecutor,
  workspaceId: string,
  status: 'rotated' | 'revoked',
  now: number,
): Promise<void> {
  await db.execute(
    `UPDATE channel_identities SET status = ?, retired_at = COALESCE(retired_at, ?)
       WHERE workspace_id = ? AND status <> 'revoked' AND status <> ?`,
    [status, now, workspaceId, status],
  );
}

/**
 * Makes `identity` the workspace's only active key, its earlier keys rotated. Refused
 * (PDK_CHANNEL_UNAUTHENTICATED) for a revoked workspace or a kid already known.
 */
export async function activateChannelIdentity(
  db: SqlExecutor,
  identity: { readonly kid: string; readonly workspaceId: string; readonly publicKeyPem: string },
  now: number,
): Promise<ChannelIdentityRecord> {
  return db.transaction(async (tx) => {
    // A placeholder row (revoked_at -1, deleted before commit) serialises this with a concurrent
    // revoke or issue of the same workspace on PostgreSQL: the second insert of the key waits for
    // the first transaction, then sees its outcome (a revocation, or nothing). SQLite's
    // transactions are serial already.
    await tx.query(
      `INSERT INTO channel_revoked_workspaces (workspace_id, revoked_at) VALUES (?, -1)
         ON CONFLICT (workspace_id) DO NOTHING`,
      [identity.workspaceId],
    );
    const mark = await tx.query('SELECT revoked_at FROM channel_revoked_workspaces WHERE workspace_id = ?', [
      identity.workspaceId,
    ]);
    const placeholder = Number(mark[0]?.['revoked_at']) === -1;
    if (placeholder)
      await tx.execute('DELETE FROM channel_revoked_workspaces WHERE workspace_id = ? AND revoked_at = -1', [
        identity.workspaceId,
      ]);
    else throw refusedRevoked(identity.workspaceId);
    await retire(tx, identity.workspaceId, 'rotated', now);
    const rows = await tx
      .query(
        `INSERT INTO channel_identities (${COLUMNS}) VALUES (?, ?, ?, 'active', ?, NULL) RETURNING ${COLUMNS}`,
        [identity.kid, identity.workspaceId, identity.publicKeyPem, now],
      )
      .catch((error) =>
        rethrowAsStoreError(error, {
          unique: () =>
            new PaddockError(
              'PDK_CHANNEL_UNAUTHENTICATED',
              `key ${identity.kid} for ${identity.workspaceId} is already known: a key is used once`,
            ),
        }),
      );
    return toIdentity(rows[0]!);
  });
}

/** Retires the workspace's active key (rotated). */
export async function deactivateChannelIdentity(
  db: SqlExecutor,
  workspaceId: string,
  now: number,
): Promise<void> {
  await retire(db, workspaceId, 'rotated', now);
}

/** Revokes every key of the workspace and refuses it any new one. Idempotent. */
export async function revokeChannelWorkspace(
  db: SqlExecutor,
  workspaceId: string,
  now: number,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(
      `INSERT INTO channel_revoked_workspaces (workspace_id, revoked_at) VALUES (?, ?)
         ON CONFLICT (workspace_id) DO NOTHING`,
      [workspaceId, now],
    );
    await retire(tx, workspaceId, 'revoked', now);
  });
}

/** Forgets the workspace's keys (decommission); a revoked workspace stays refused. */
export async function forgetChannelIdentities(db: SqlExecutor, workspaceId: string): Promise<void> {
  await db.execute('DELETE FROM channel_identities WHERE workspace_id = ?', [workspaceId]);
}

export async function getChannelIdentity(
  db: SqlExecutor,
  kid: string,
): Promise<ChannelIdentityRecord | undefined> {
  const rows = await db.query(`SELECT ${COLUMNS} FROM channel_identities WHERE kid = ?`, [kid]);
  return rows[0] && toIdentity(rows[0]);
}

export async function listChannelIdentities(
  db: SqlExecutor,
  workspaceId: string,
): Promise<ChannelIdentityRecord[]> {
  const rows = await db.query(
    `SELECT ${COLUMNS} FROM channel_identities WHERE workspace_id = ? ORDER BY issued_at, kid`,
    [workspaceId],
  );
  return rows.map(toIdentity);
}

export async function isChannelWorkspaceRevoked(db: SqlExecutor, workspaceId: string): Promise<boolean> {
  const rows = await db.query(
    'SELECT 1 AS revoked FROM channel_revoked_workspaces WHERE workspace_id = ? AND revoked_at >= 0',
    [workspaceId],
  );
  return rows.length > 0;
}

/**
 * Imports identities kept elsewhere before (a replica's channel-identities.json): kids already
 * stored are kept as they are; a workspace with an active key in the store keeps it (the
 * imported ones are stored rotated). Resolves to how many identities were added.
 */
export async function importChannelIdentities(
  db: SqlExecutor,
  identities: readonly ChannelIdentityRecord[],
  revokedWorkspaces: readonly string[],
  now: number,
): Promise<number> {
  return db.transaction(async (tx) => {
    for (const workspaceId of revokedWorkspaces) {
      await tx.execute(
        `INSERT INTO channel_revoked_workspaces (workspace_id, revoked_at) VALUES (?, ?)
           ON CONFLICT (workspace_id) DO NOTHING`,
        [workspaceId, now],
      );
      await retire(tx, workspaceId, 'revoked', now);
    }
    let added = 0;
    for (const identity of identities) {
      const revoked = await isRevoked(tx, identity.workspaceId);
      const active = await tx.query(
        "SELECT kid FROM channel_identities WHERE workspace_id = ? AND status = 'active'",
        [identity.workspaceId],
      );
      const status: ChannelIdentityStatus = revoked
        ? 'revoked'
        : identity.status === 'active' && active.length > 0
          ? 'rotated'
          : identity.status;
      added += await tx.execute(
        `INSERT INTO channel_identities (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kid) DO NOTHING`,
        [
          identity.kid,
          identity.workspaceId,
          identity.publicKeyPem,
          status,
          identity.issuedAt,
          status === 'active' ? null : (identity.retiredAt ?? now),
        ],
      );
    }
    return added;
  });
}
