import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { PaddockError } from '../../core/errors.ts';
import type { SqlExecutor } from './sql-executor.ts';

// Schema migrations live in the repository, one directory per dialect
// (migrations/sqlite/0001-initial.sql, migrations/postgres/0001-initial.sql), because
// the dialects differ in types. `schema_migrations` records each applied version with
// the SHA-256 of its file, so a file edited after it ran, or a database migrated by a
// newer Paddock, stops startup instead of running against a schema nobody reviewed.

export interface Migration {
  readonly version: number;
  /** File name, e.g. `0001-initial.sql`. */
  readonly name: string;
  readonly sql: string;
  /** Hex SHA-256 of the file with line endings normalised to LF (a Windows checkout does not count as an edit). */
  readonly checksum: string;
}

const FILE_NAME = /^(\d{4})-[a-z0-9]+(?:-[a-z0-9]+)*\.sql$/;

/** The migrations shipped for a dialect, in version order; versions must run 1, 2, 3… without gaps. */
export function loadMigrations(dialect: SqlExecutor['dialect']): Migration[] {
  const dir = new URL(`./migrations/${dialect}/`, import.meta.url);
  const migrations: Migration[] = [];
  for (const name of readdirSync(dir).sort()) {
    const match = FILE_NAME.exec(name);
    if (!match) {
      throw new PaddockError(
        'PDK_STORE_MIGRATION',
        `unexpected file ${name} in the ${dialect} migrations: names are NNNN-lowercase-words.sql`,
      );
    }
    const sql = readFileSync(new URL(name, dir), 'utf8').replaceAll('\r\n', '\n');
    const checksum = createHash('sha256').update(sql).digest('hex');
    migrations.push({ version: Number(match[1]), name, sql, checksum });
  }
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new PaddockError(
        'PDK_STORE_MIGRATION',
        `${dialect} migration ${migration.name} should be version ${index + 1}: versions must not repeat or skip`,
      );
    }
  });
  return migrations;
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY NOT NULL,
  name       TEXT NOT NULL,
  checksum   TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

export interface MigrationOutcome {
  /** Schema version after the run. */
  readonly version: number;
  /** Versions this run applied (empty when the database was current). */
  readonly applied: readonly number[];
}

/**
 * Brings the schema up to date in one transaction, under the dialect's migration lock so that
 * replicas starting together apply each migration once. Throws PDK_STORE_MIGRATION when an
 * applied migration was edited or the database is newer than this code; nothing is applied then.
 */
export async function migrate(
  executor: SqlExecutor,
  migrations: readonly Migration[],
  now: number,
): Promise<MigrationOutcome> {
  return executor.transaction(async (tx) => {
    await tx.lockForMigration();
    await tx.script(CREATE_TABLE);
    const rows = await tx.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
    const known = new Map(migrations.map((m) => [m.version, m]));
    for (const [index, row] of rows.entries()) {
      const version = Number(row['version']);
      const migration = known.get(version);
      if (version !== index + 1) {
        throw new PaddockError(
          'PDK_STORE_MIGRATION',
          `schema_migrations lacks version ${index + 1} but records ${version}: the table was edited by hand; restore a backup`,
        );
      }
      if (!migration) {
        const latest = migrations.at(-1)?.name ?? 'none';
        throw new PaddockError(
          'PDK_STORE_MIGRATION',
          `the database schema is at version ${version} (${String(row['name'])}), newer than this Paddock ` +
            `(latest migration ${latest}): run the Paddock release that migrated it, or restore a backup taken before`,
        );
      }
      if (migration.checksum !== row['checksum']) {
        throw new PaddockError(
          'PDK_STORE_MIGRATION',
          `migration ${migration.name} was changed after it was applied (recorded sha256 ` +
            `${String(row['checksum']).slice(0, 12)}…, file ${migration.checksum.slice(0, 12)}…): ` +
            'restore the file from the release that applied it and add the change as a new migration',
        );
      }
    }
    const applied: number[] = [];
    for (const migration of migrations.slice(rows.length)) {
      try {
        await tx.script(migration.sql);
      } catch (error) {
        if (error instanceof PaddockError && error.code === 'PDK_STORE_UNAVAILABLE') throw error;
        throw new PaddockError(
          'PDK_STORE_MIGRATION',
          `migration ${migration.name} failed and was rolled back: ${(error as Error).message}`,
          { cause: error },
        );
      }
      await tx.execute(
        'INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)',
        [migration.version, migration.name, migration.checksum, now],
      );
      applied.push(migration.version);
    }
    return { version: Math.max(rows.length, applied.at(-1) ?? 0), applied };
  });
}
