import { createHash } from 'node:crypto';
import type pg from 'pg';

// The one table leader election needs: the current term of each election. It lives beside the
// store's tables but is created here (idempotently, under a transaction-level advisory lock so
// replicas starting together do not race), because only replicated control planes use it.

// "PDKCLST" in ASCII: the key that serialises creating the table.
const CREATE_LOCK_KEY = '22593088331068244';

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS paddock_leader_terms (
  election    TEXT PRIMARY KEY NOT NULL,
  term        BIGINT NOT NULL,
  holder      TEXT NOT NULL,
  acquired_at BIGINT NOT NULL
)`;

export async function ensureClusterTables(client: pg.ClientBase): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [CREATE_LOCK_KEY]);
    await client.query(CREATE_TABLE);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The session advisory-lock key of an election: 64 bits of SHA-256 of its name, as a signed decimal. */
export function electionLockKey(election: string): string {
  return createHash('sha256').update(`paddock-election:${election}`).digest().readBigInt64BE(0).toString();
}
