import pg from 'pg';
import type { Clock } from '../../core/clock.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import { loadMigrations, migrate } from './migrate.ts';
import {
  ConstraintViolation,
  type ConstraintKind,
  type SqlExecutor,
  type SqlRow,
  type SqlValue,
} from './sql-executor.ts';
import { SqlStore } from './sql-store.ts';

// The shared backend for replicated control planes, through `pg` (a dependency chosen in
// DESIGN.md §7). Every statement is parameterised; transactions hold one pooled client.

export interface PostgresStoreOptions {
  /** A postgres:// connection string; it may carry a password, so it is never logged or echoed. */
  readonly url: string;
  /** The URL without password or query, for messages. */
  readonly displayUrl: string;
  readonly clock: Clock;
  /** Connections per replica. Default 10. */
  readonly poolSize?: number;
  /** How long to wait for a connection before PDK_STORE_UNAVAILABLE. Default 10000 ms. */
  readonly connectTimeoutMs?: number;
}

// A fixed key for pg_advisory_xact_lock: "PDKMIGR" in ASCII, shared by every replica.
const MIGRATION_LOCK_KEY = '22593088346736466';

// SQLSTATE -> neutral constraint kind (https://www.postgresql.org/docs/15/errcodes-appendix.html).
const CONSTRAINT: Record<string, ConstraintKind> = {
  '23505': 'unique',
  '23503': 'foreign-key',
  '23514': 'check',
  '23502': 'not-null',
};

const log = createLogger('store');

export async function openPostgresStore(options: PostgresStoreOptions): Promise<SqlStore> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    application_name: 'paddock',
  });
  // An idle client losing its server emits here; unhandled, it would end the process.
  pool.on('error', (error) =>
    log.error({ db: options.displayUrl, error: error.message }, 'idle database connection failed'),
  );
  const executor = new PostgresExecutor(pool, options.displayUrl);
  try {
    // Whatever stops the first statement (refused, TLS, auth, no such database) is about reaching the server.
    await executor.query('SELECT 1').catch((error: PaddockError) => {
      throw error.code === 'PDK_STORE_UNAVAILABLE' ? error : executor.unavailable(error.cause ?? error);
    });
    const { version } = await migrate(executor, loadMigrations('postgres'), Math.floor(options.clock.now()));
    return new SqlStore(executor, options.clock, version);
  } catch (error) {
    await executor.close();
    throw error;
  }
}

/** Turns `?` placeholders into `$1, $2…`; the shared SQL never has `?` inside a literal. */
function numberPlaceholders(sql: string): string {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
}

interface Queryable {
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  query(config: { text: string; values: unknown[]; rowMode: 'array' }): Promise<pg.QueryResult>;
}

class PostgresExecutor implements SqlExecutor {
  readonly dialect = 'postgres';
  readonly #pool: pg.Pool;
  readonly #displayUrl: string;
  readonly #client: Queryable;
  readonly #sql = new Map<string, string>();

  constructor(pool: pg.Pool, displayUrl: string, client?: Queryable) {
    this.#pool = pool;
    this.#displayUrl = displayUrl;
    this.#client = client ?? pool;
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return (await this.#send(sql, params)).rows as SqlRow[];
  }

  async queryArrays(sql: string, params: readonly SqlValue[] = []): Promise<unknown[][]> {
    return (await this.#send(sql, params, 'array')).rows as unknown[][];
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await this.#send(sql, params)).rowCount ?? 0;
  }

  async script(sql: string): Promise<void> {
    // Without parameters pg uses the simple protocol, which accepts several statements.
    await this.#client.query(sql).catch((error) => this.#rethrow(error));
  }

  async lockForMigration(): Promise<void> {
    await this.query('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    if (this.#client !== this.#pool)
      throw new PaddockError('PDK_INTERNAL', 'nested store transactions are not supported');
    const client = await this.#pool.connect().catch((error) => this.#rethrow(error));
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(new PostgresExecutor(this.#pool, this.#displayUrl, client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      return this.#rethrow(error);
    } finally {
      // A client whose ROLLBACK failed is in an unknown state: destroy it rather than reuse it.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.#client === this.#pool && !this.#pool.ended) await this.#pool.end();
  }

  unavailable(error: unknown): PaddockError {
    return new PaddockError(
      'PDK_STORE_UNAVAILABLE',
      `PostgreSQL at ${this.#displayUrl} is unavailable: ${(error as Error).message || String(error)}`,
      { cause: error },
    );
  }

  async #send(sql: string, params: readonly SqlValue[], rowMode?: 'array'): Promise<pg.QueryResult> {
    let text = this.#sql.get(sql);
    if (text === undefined) {
      text = numberPlaceholders(sql);
      this.#sql.set(sql, text);
    }
    const query = rowMode ? { text, values: [...params], rowMode } : undefined;
    return (query ? this.#client.query(query) : this.#client.query(text, [...params])).catch((error) =>
      this.#rethrow(error),
    );
  }

  #rethrow(error: unknown): never {
    if (error instanceof PaddockError) throw error;
    const code = String((error as { code?: unknown }).code ?? '');
    const kind = CONSTRAINT[code];
    if (kind) throw new ConstraintViolation(kind, { cause: error });
    if (isConnectionFailure(code, error)) throw this.unavailable(error);
    throw new PaddockError('PDK_INTERNAL', `PostgreSQL statement failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Errors about reaching the server or its state, as opposed to the statement. */
function isConnectionFailure(code: string, error: unknown): boolean {
  // 08: connection exception, 28: authorization, 3D000: no such database, 53: resources,
  // 57P0x: server shutting down / cannot connect now.
  if (/^(08|28|53|57P0)/.test(code) || code === '3D000') return true;
  if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ECONNRESET…
  const message = (error as Error)?.message ?? '';
  return /timeout exceeded when trying to connect|Connection terminated/i.test(message);
}
