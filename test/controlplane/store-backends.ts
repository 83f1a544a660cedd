import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before } from 'node:test';
import {
  createDatabase,
  createSchema,
  dropDatabase,
  useTestPostgres,
  withClient,
} from '../support/postgres.ts';
import type { StoreBackend } from './store-suite.ts';

// The two store backends the shared suites run against. SQLite: a temp file per test.
// PostgreSQL: a fresh database per run in the runner's cluster (or this file's own when run
// directly), and a fresh schema in it per test (the store's connections get it as their
// search_path). Each registers its own before/after hooks in the calling test file.

export function sqliteBackend(): StoreBackend {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-store-'));
  let files = 0;
  after(() => rmSync(dir, { recursive: true, force: true }));
  return {
    freshUrl: async () => `sqlite:${join(dir, `store-${++files}.db`)}`,
    sql: async (url, text) => {
      const db = new DatabaseSync(url.slice('sqlite:'.length));
      try {
        if (/^\s*select/i.test(text)) return db.prepare(text).all();
        db.exec(text);
        return [];
      } finally {
        db.close();
      }
    },
  };
}

export function postgresBackend(): StoreBackend {
  let server: { url: string; release(): Promise<void> } | undefined;
  let database: string | undefined;
  before(async () => {
    server = await useTestPostgres();
    database = await createDatabase(server.url);
  });
  after(async () => {
    if (database) await dropDatabase(database);
    await server?.release();
  });
  return {
    freshUrl: async () => {
      if (!database)
        throw new Error('the PostgreSQL test database was not created: see the error of the before hook');
      return createSchema(database);
    },
    sql: (url, text) => withClient(url, async (client) => (await client.query(text)).rows),
  };
}
