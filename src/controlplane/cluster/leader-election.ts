import pg from 'pg';
import { createLogger } from '../../core/log.ts';
import { electionLockKey, ensureClusterTables } from './cluster-tables.ts';

// Leader election among control-plane replicas through a PostgreSQL session-level advisory
// lock, held on a connection of its own. The lock lives exactly as long as that session: when
// the leader dies (even kill -9) or its connection breaks, PostgreSQL releases the lock and a
// standby's next try wins. Every win increments the election's term in paddock_leader_terms;
// writes done as leader go through runFenced (fencing.ts), which refuses a stale term, so a
// leader that lost its session without noticing yet cannot write after its successor started.

const log = createLogger('cluster');

export interface LeaderElectionOptions {
  /** A postgres:// connection string (never logged). */
  readonly url: string;
  /** The election, e.g. `reconciler`; one leader per name. */
  readonly election: string;
  /** This replica (pod name, hostname): recorded with the term, for operators. */
  readonly holder: string;
  /** How often a standby tries the lock and a leader checks its session. Default 1000 ms, at least 50. */
  readonly retryMs?: number;
  /** Called once per term won, with the term. A throw is logged; leadership is kept. */
  readonly onElected?: (term: number) => void | Promise<void>;
  /** Called when a held term ends (connection lost, stop()). */
  readonly onLost?: (term: number, reason: string) => void;
  /** Clock for acquired_at, in ms. Default Date.now. */
  readonly now?: () => number;
}

export class LeaderElection {
  readonly #options: LeaderElectionOptions;
  readonly #key: string;
  #client: pg.Client | undefined;
  #term: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #busy = false;

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.#key = electionLockKey(options.election);
  }

  /** The term this replica leads, or undefined when it is not the leader. */
  get term(): number | undefined {
    return this.#term;
  }

  get isLeader(): boolean {
    return this.#term !== undefined;
  }

  /** Starts campaigning; resolves after the first attempt (leader or standby). */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#tick();
    this.#schedule();
  }

  /** Gives up leadership (closing the session releases the lock) and stops campaigning. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#lose('stopped');
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(
      () => {
        void this.#tick().finally(() => this.#schedule());
      },
      Math.max(50, this.#options.retryMs ?? 1000),
    );
  }

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.#options.url,
      application_name: `paddock-election-${this.#options.election}`,
      keepAlive: true,
      keepAliveInitialDelayMillis: 5000,
      query_timeout: 10_000,
    });
    // A broken session is a lost lock: drop the term at once, reconnect on the next tick.
    client.on('error', (error) => this.#dropClient(client, `connection error: ${error.message}`));
    client.on('end', () => this.#dropClient(client, 'connection ended'));
    await client.connect();
    // So the server, too, notices a leader whose host vanished (no FIN) within about 15 s.
    await client.query(
      'SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 5',
    );
    await ensureClusterTables(client);
    return client;
  }

  #dropClient(client: pg.Client, reason: string): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#lose(reason);
    void client.end().catch(() => undefined);
  }

  #lose(reason: string): void {
    const term = this.#term;
    if (term === undefined) return;
    this.#term = undefined;
    log.warn({ election: this.#options.election, term, reason }, 'leadership lost');
    try {
      this.#options.onLost?.(term, reason);
    } catch (error) {
      log.error({ error: (error as Error).message }, 'onLost failed');
    }
  }

  async #tick(): Promise<void> {
    if (this.#busy || this.#stopped) return;
    this.#busy = true;
    try {
      if (!this.#client) {
        const fresh = await this.#connect();
        // Stopped while connecting: this session must not live on (it could take the lock).
        if (this.#stopped) {
          await fresh.end().catch(() => undefined);
          return;
        }
        this.#client = fresh;
      }
      const client = this.#client;
      if (this.#term !== undefined) {
        await client.query('SELECT 1'); // the session is alive, so the lock is still ours
        return;
      }
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
        this.#key,
      ]);
      if (!rows[0]?.locked) return;
      const term = await this.#nextTerm(client);
      if (this.#client !== client || this.#stopped) return;
      this.#term = term;
      log.info({ election: this.#options.election, term, holder: this.#options.holder }, 'elected leader');
      await Promise.resolve(this.#options.onElected?.(term)).catch((error: Error) =>
        log.error({ error: error.message }, 'onElected failed'),
      );
    } catch (error) {
      log.warn(
        { election: this.#options.election, error: (error as Error).message },
        'election attempt failed',
      );
      const client = this.#client;
      if (client) this.#dropClient(client, `query failed: ${(error as Error).message}`);
    } finally {
      this.#busy = false;
    }
  }

  async #nextTerm(client: pg.Client): Promise<number> {
    const { rows } = await client.query<{ term: string }>(
      `INSERT INTO paddock_leader_terms (election, term, holder, acquired_at) VALUES ($1, 1, $2, $3)
       ON CONFLICT (election) DO UPDATE SET term = paddock_leader_terms.term + 1, holder = EXCLUDED.holder,
         acquired_at = EXCLUDED.acquired_at
       RETURNING term`,
      [this.#options.election, this.#options.holder, (this.#options.now ?? Date.now)()],
    );
    return Number(rows[0]?.term);
  }
}
