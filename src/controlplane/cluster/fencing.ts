import type pg from 'pg';
import { PaddockError } from '../../core/errors.ts';

// Fenced writes: work done "as leader" runs in one transaction that first reads the election's
// current term with FOR SHARE. A new leader's term increment (an UPDATE of that row) waits for
// any fenced transaction in flight and every later fenced transaction sees the new term, so a
// deposed leader's write either committed before its successor was elected or not at all.

/**
 * Runs `work` in a transaction on a pooled connection, only if `term` is still the election's
 * current term; PDK_CLUSTER_NOT_LEADER (nothing written) otherwise.
 *
 * @example
 * await runFenced(pool, 'reconciler', election.term!, (tx) => tx.query('UPDATE ...'));
 */
export async function runFenced<T>(
  pool: pg.Pool,
  election: string,
  term: number,
  work: (tx: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return runInTransaction(pool, async (client) => {
    const { rows } = await client.query<{ term: string }>(
      'SELECT term FROM paddock_leader_terms WHERE election = $1 FOR SHARE',
      [election],
    );
    const current = rows[0] === undefined ? undefined : Number(rows[0].term);
    if (current !== term)
      throw new PaddockError(
        'PDK_CLUSTER_NOT_LEADER',
        `election ${election}: term ${term} is not current (current ${current ?? 'none'}); the write was not done`,
      );
    return work(client);
  });
}

/** Runs `work` in one transaction on a pooled connection: committed if it resolves, rolled back if it throws. */
export async function runInTransaction<T>(
  pool: pg.Pool,
  work: (tx: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    }
  } finally {
    client.release(broken);
  }
}
