import type pg from 'pg';
import { runFenced } from './fencing.ts';

// The ledger of work done as leader: each fenced step (a reconciler action on a workspace, an
// apply's bookkeeping) is recorded with the term that ran it, in the same transaction that
// checked the term. It is what shows, after a failover, that no step ran twice and that every
// step ran under the term of the replica that led at the time (operators: `SELECT * FROM
// paddock_fenced_runs ORDER BY id`). No unique constraint on purpose: a repeat must be visible.

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS paddock_fenced_runs (
  id       BIGSERIAL PRIMARY KEY,
  election TEXT NOT NULL,
  term     BIGINT NOT NULL,
  holder   TEXT NOT NULL,
  step     TEXT NOT NULL,
  at       BIGINT NOT NULL
)`;

// "PDKFRUN" in ASCII: serialises creating the table when replicas start together.
const CREATE_LOCK_KEY = '22593088229889358';

export async function ensureFencedRunsTable(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [CREATE_LOCK_KEY]);
    await client.query(CREATE_TABLE);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export interface FencedRun {
  readonly election: string;
  readonly term: number;
  readonly holder: string;
}

/**
 * Claims `step` for `term`: recorded only while `term` is the election's current one, else
 * PDK_CLUSTER_NOT_LEADER and nothing is recorded (the caller must not do the step).
 */
export async function claimFencedStep(pool: pg.Pool, run: FencedRun, step: string): Promise<void> {
  await runFenced(pool, run.election, run.term, (tx) =>
    tx.query(
      'INSERT INTO paddock_fenced_runs (election, term, holder, step, at) VALUES ($1, $2, $3, $4, $5)',
      [run.election, run.term, run.holder, step, Date.now()],
    ),
  );
}
