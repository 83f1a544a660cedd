import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { Clock } from '../../core/clock.ts';
import { PaddockError } from '../../core/errors.ts';
import { loadMigrations, migrate } from './migrate.ts';
import {
  ConstraintViolation,
  type ConstraintKind,
  type SqlExecutor,
  type SqlRow,
  type SqlValue,
} from './sql-executor.ts';
import { SqlStore } from './sql-store.ts';

// The embedded backend: one file under the data directory, through node:sqlite.
// DatabaseSync is synchronous: a promise chain ("lane") keeps an open transaction from
// interleaving with other calls that await in between. The lane is per file for the whole
// process, because a connection waiting for a lock blocks the thread, so two connections
// to one file in one process (two stores, tests) would otherwise wait on each other until
// the busy timeout. Other processes on the file wait for the busy timeout (WAL lets readers go on).

export interface SqliteStoreOptions {
  /** Absolute path of the database file, or `:memory:` (tests). */
  readonly path: string;
  readonly clock: Clock;
  /** How long a write waits for another process's lock before PDK_STORE_UNAVAILABLE. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
}

// Extended result codes (https://sqlite.org/rescode.html).
// 1811 (CONSTRAINT_TRIGGER) is how SQLite reports ON DELETE RESTRICT; the schema has no triggers.
const CONSTRAINT: Record<number, ConstraintKind> = {
  1811: 'foreign-key',
  2067: 'unique',
  1555: 'unique',
  787: 'foreign-key',
  275: 'check',
  1299: 'not-null',
};
// BUSY, LOCKED, IOERR, CORRUPT, FULL, CANTOPEN, READONLY, NOTADB: the file, not the statement, is at fault.
const UNAVAILABLE = new Set([5, 6, 10, 11, 13, 14, 8, 26]);

interface Lane {
  tail: Promise<unknown>;
  users: number;
}
const lanes = new Map<string, Lane>();

function joinLane(path: string): Lane {
  if (path === ':memory:') return { tail: Promise.resolve(), users: 1 }; // every :memory: is its own database
  const lane = lanes.get(path) ?? { tail: Promise.resolve(), users: 0 };
  lane.users += 1;
  lanes.set(path, lane);
  return lane;
}

function leaveLane(path: string, lane: Lane): void {
  lane.users -= 1;
  if (lane.users === 0 && lanes.get(path) === lane) lanes.delete(path);
}

export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqlStore> {
  const executor = new SqliteExecutor(options.path, options.busyTimeoutMs ?? 5000);
  try {
    const { version } = await migrate(executor, loadMigrations('sqlite'), Math.floor(options.clock.now()));
    return new SqlStore(executor, options.clock, version);
  } catch (error) {
    await executor.close();
    throw error;
  }
}

class SqliteExecutor implements SqlExecutor {
  readonly dialect = 'sqlite';
  readonly #db: DatabaseSync;
  readonly #path: string;
  readonly #statements = new Map<string, StatementSync>();
  readonly #lane: Lane;

  constructor(path: string, busyTimeoutMs: number) {
    this.#path = path === ':memory:' ? path : resolve(path);
    this.#lane = joinLane(this.#path);
    try {
      if (path !== ':memory:') {
        // The database holds sessions and the audit trail: owner-only from the first byte,
        // and SQLite gives its -wal and -shm files the same mode.
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        closeSync(openSync(path, 'a', 0o600));
      }
      this.#db = new DatabaseSync(path, { timeout: busyTimeoutMs, enableForeignKeyConstraints: true });
      this.#db.exec('PRAGMA journal_mode = WAL');
      // FULL: a committed audit event or revocation survives power loss, not only a crash.
      this.#db.exec('PRAGMA synchronous = FULL');
      // Neither changes what a commit guarantees. A 16 MiB page cache (SQLite's default is 2 MiB)
      // holds more of the audit uid index, where each insert lands on a random page, so fewer
      // inserts read a page back first; checkpointing the WAL at 10,000 pages (~40 MB) instead
      // of 1,000 copies a page rewritten by many batches into the database once, not once per
      // few batches. Together about 20% less time per ingested audit event (bench/audit.ts).
      this.#db.exec('PRAGMA cache_size = -16384');
      this.#db.exec('PRAGMA wal_autocheckpoint = 10000');
    } catch (error) {
      leaveLane(this.#path, this.#lane);
      throw this.#unavailable(error);
    }
  }

  query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return this.#serial(() => this.#run(() => this.#statement(sql).all(...bind(params)) as SqlRow[]));
  }

  execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.#serial(() => this.#run(() => Number(this.#statement(sql).run(...bind(params)).changes)));
  }

  queryArrays(sql: string, params: readonly SqlValue[] = []): Promise<unknown[][]> {
    return this.#serial(() =>
      this.#run(() => this.#arrayStatement(sql).all(...bind(params)) as unknown as unknown[][]),
    );
  }

  script(sql: string): Promise<void> {
    return this.#serial(() => this.#run(() => this.#db.exec(sql)));
  }

  lockForMigration(): Promise<void> {
    return Promise.resolve();
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#serial(async () => {
      this.#run(() => this.#db.exec('BEGIN IMMEDIATE'));
      try {
        const result = await work(this.#inTransaction());
        this.#run(() => this.#db.exec('COMMIT'));
        return result;
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    await this.#serial(async () => {
      if (!this.#db.isOpen) return;
      this.#db.close();
      leaveLane(this.#path, this.#lane);
    });
  }

  /** The same connection without the queue: the transaction already holds it. */
  #inTransaction(): SqlExecutor {
    return {
      dialect: this.dialect,
      query: async (sql, params = []) =>
        this.#run(() => this.#statement(sql).all(...bind(params)) as SqlRow[]),
      execute: async (sql, params = []) =>
        this.#run(() => Number(this.#statement(sql).run(...bind(params)).changes)),
      queryArrays: async (sql, params = []) =>
        this.#run(() => this.#arrayStatement(sql).all(...bind(params)) as unknown as unknown[][]),
      script: async (sql) => this.#run(() => this.#db.exec(sql)),
      lockForMigration: async () => {},
      transaction: () =>
        Promise.reject(new PaddockError('PDK_INTERNAL', 'nested store transactions are not supported')),
      close: () =>
        Promise.reject(new PaddockError('PDK_INTERNAL', 'cannot close the store inside a transaction')),
    };
  }

  #serial<T>(work: () => Promise<T> | T): Promise<T> {
    const next = this.#lane.tail.then(work);
    this.#lane.tail = next.catch(() => {});
    return next;
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** A second prepared statement per SQL text, returning arrays (the mode is per statement). */
  #arrayStatement(sql: string): StatementSync {
    const key = `arrays:${sql}`;
    let statement = this.#statements.get(key);
    if (!statement) {
      statement = this.#db.prepare(sql);
      statement.setReturnArrays(true);
      this.#statements.set(key, statement);
    }
    return statement;
  }

  #run<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      const code = (error as { errcode?: unknown }).errcode;
      if (typeof code === 'number' && CONSTRAINT[code])
        throw new ConstraintViolation(CONSTRAINT[code], { cause: error });
      if (typeof code === 'number' && UNAVAILABLE.has(code & 0xff)) throw this.#unavailable(error);
      if (error instanceof PaddockError) throw error;
      throw new PaddockError('PDK_INTERNAL', `SQLite statement failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  #unavailable(error: unknown): PaddockError {
    return new PaddockError(
      'PDK_STORE_UNAVAILABLE',
      `SQLite database ${this.#path} is unavailable: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function bind(params: readonly SqlValue[]): SQLInputValue[] {
  return params.map((value) => (typeof value === 'boolean' ? (value ? 1 : 0) : value));
}
