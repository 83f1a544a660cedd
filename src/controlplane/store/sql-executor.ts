import { PaddockError } from '../../core/errors.ts';

// The seam between the shared SQL (sql-store.ts, migrate.ts) and a database driver.
// Statements use `?` placeholders; the PostgreSQL executor numbers them. Values are
// numbers, strings, booleans or null; each executor converts what its driver needs.

export type SqlValue = string | number | boolean | null;
export type SqlRow = Record<string, unknown>;

export interface SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs one statement and resolves to its rows (empty for statements without RETURNING). */
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /**
   * Runs one statement and resolves to its rows as arrays, columns in SELECT order: for bulk
   * reads (audit verification), where building an object per row costs more than the read.
   */
  queryArrays(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]>;
  /** Runs one statement and resolves to the number of rows it changed. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs a multi-statement script without parameters (migrations). */
  script(sql: string): Promise<void>;
  /**
   * Runs `work` in one transaction on one connection: committed when it resolves, rolled back
   * when it throws. On SQLite the write lock is taken at BEGIN (IMMEDIATE), so transactions of
   * other processes wait for the busy timeout instead of failing half-way.
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Inside a transaction: serialises schema migrations across replicas (a no-op on SQLite, whose BEGIN IMMEDIATE already does). */
  lockForMigration(): Promise<void>;
  close(): Promise<void>;
}

export type ConstraintKind = 'unique' | 'foreign-key' | 'check' | 'not-null';

/**
 * A driver's constraint violation, in neutral terms. Executors throw it so that the shared
 * code can say what the violation means in its context (a taken id, an unknown owner…).
 * One that no caller expected stays a PDK_INTERNAL error: it is a bug.
 */
export class ConstraintViolation extends PaddockError {
  readonly kind: ConstraintKind;

  constructor(kind: ConstraintKind, options: { cause: unknown }) {
    super(
      'PDK_INTERNAL',
      `unexpected ${kind} constraint violation: ${(options.cause as Error)?.message}`,
      options,
    );
    this.kind = kind;
  }
}

export function isConstraintViolation(error: unknown, kind?: ConstraintKind): error is ConstraintViolation {
  return error instanceof ConstraintViolation && (kind === undefined || error.kind === kind);
}

/**
 * Rethrows `error` as a PaddockError: a constraint violation becomes what `meaning` says it
 * means for this statement, a PaddockError passes through, anything else is PDK_INTERNAL with
 * the driver's error as `cause`.
 */
export function rethrowAsStoreError(
  error: unknown,
  meaning: Partial<Record<ConstraintKind, () => PaddockError>> = {},
): never {
  if (error instanceof ConstraintViolation) {
    const mapped = meaning[error.kind];
    if (mapped) throw mapped();
  }
  if (error instanceof PaddockError) throw error;
  throw new PaddockError('PDK_INTERNAL', `store statement failed: ${(error as Error).message}`, {
    cause: error,
  });
}
