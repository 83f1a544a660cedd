import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openStore, type Store } from '../../src/controlplane/index.ts';
import { describeStoreRecords } from './store-suite-records.ts';

// The one store suite, run against every backend by store.test.ts: both backends must
// behave identically, so the suite never branches on the dialect.

export interface StoreBackend {
  /** A URL naming a new, empty database. */
  freshUrl(): Promise<string>;
  /** Runs raw SQL (no parameters) against the database at `url`; resolves to its rows. */
  sql(url: string, text: string): Promise<Record<string, unknown>[]>;
}

/** A clock the test moves by hand; starts at 2025-01-01T00:00:00Z. */
export interface TestClock {
  t: number;
  now(): number;
}

export interface StoreContext {
  readonly backend: StoreBackend;
  readonly clock: TestClock;
  /** The store under test, on a fresh database per test. */
  store: Store;
  url: string;
  /** Opens another store on the same database (a second replica); closed after the test. */
  replica(): Promise<Store>;
}

const START = Date.UTC(2025, 0, 1);
/** The schema version the shipped migrations reach. */
const LATEST = 8;

export function describeStore(name: string, backend: StoreBackend): void {
  describe(`store (${name})`, () => {
    const others: Store[] = [];
    const ctx: StoreContext = {
      backend,
      clock: { t: START, now: () => ctx.clock.t },
      store: undefined as unknown as Store,
      url: '',
      replica: async () => {
        const store = await openStore({ url: ctx.url, clock: ctx.clock });
        others.push(store);
        return store;
      },
    };

    beforeEach(async () => {
      ctx.clock.t = START;
      ctx.url = await ctx.backend.freshUrl();
      ctx.store = await openStore({ url: ctx.url, clock: ctx.clock });
    });

    afterEach(async () => {
      await ctx.store.close();
      for (const store of others.splice(0)) await store.close();
    });

    describe('migrations', () => {
      it('apply once and are idempotent when the store opens again', async () => {
        assert.equal(ctx.store.schemaVersion, LATEST);
        await ctx.store.close();
        ctx.store = await openStore({ url: ctx.url, clock: ctx.clock });
        assert.equal(ctx.store.schemaVersion, LATEST);
        const rows = await ctx.backend.sql(
          ctx.url,
          'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
        );
        assert.deepEqual(
          rows.map((row) => [Number(row['version']), row['name']]),
          [
            [1, '0001-initial.sql'],
            [2, '0002-review-gates.sql'],
            [3, '0003-audit-pipeline.sql'],
            [4, '0004-reconciler.sql'],
            [5, '0005-policy-releases.sql'],
            [6, '0006-shared-sessions.sql'],
            [7, '0007-audit-sink-cursor.sql'],
            [8, '0008-release-attestations.sql'],
          ],
        );
        for (const row of rows) assert.match(String(row['checksum']), /^[0-9a-f]{64}$/);
      });

      it('let two replicas open a fresh database at once', async () => {
        const url = await ctx.backend.freshUrl();
        const both = await Promise.all([
          openStore({ url, clock: ctx.clock }),
          openStore({ url, clock: ctx.clock }),
        ]);
        others.push(...both);
        assert.deepEqual(
          both.map((s) => s.schemaVersion),
          [LATEST, LATEST],
        );
        const rows = await ctx.backend.sql(url, 'SELECT version FROM schema_migrations');
        assert.equal(rows.length, LATEST);
      });

      it('refuse a database whose applied migration was edited', async () => {
        await ctx.store.close();
        await ctx.backend.sql(
          ctx.url,
          `UPDATE schema_migrations SET checksum = '${'0'.repeat(64)}' WHERE version = 1`,
        );
        await assert.rejects(openStore({ url: ctx.url, clock: ctx.clock }), {
          code: 'PDK_STORE_MIGRATION',
          message:
            /^migration 0001-initial\.sql was changed after it was applied \(recorded sha256 000000000000…, file [0-9a-f]{12}…\): restore the file from the release that applied it and add the change as a new migration$/,
        });
      });

      it('refuse a database migrated by a newer Paddock', async () => {
        await ctx.store.close();
        await ctx.backend.sql(
          ctx.url,
          "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9, '0009-future.sql', 'x', 0)",
        );
        await assert.rejects(openStore({ url: ctx.url, clock: ctx.clock }), {
          code: 'PDK_STORE_MIGRATION',
          message:
            'the database schema is at version 9 (0009-future.sql), newer than this Paddock (latest migration ' +
            '0008-release-attestations.sql): run the Paddock release that migrated it, or restore a backup taken before',
        });
      });
    });

    describeStoreRecords(ctx);
  });
}
