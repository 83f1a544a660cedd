import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStore } from '../../../src/controlplane/store/open-store.ts';
import { postgresBackend, sqliteBackend } from '../store-backends.ts';
import type { StoreBackend } from '../store-suite.ts';

// The sinks' feed cursor in the store (migration 0007), on both backends: none before the first
// save, one per feed, and it never moves back (a deposed audit leader's late save of a smaller
// value must not make its successor's successor send everything again).

function describeCursor(name: string, backend: StoreBackend): void {
  describe(`audit sink cursor (${name})`, () => {
    it('starts unset, is kept per feed, survives reopening, and never moves back', async () => {
      const url = await backend.freshUrl();
      let store = await openStore({ url });
      try {
        assert.equal(await store.auditSinkCursor('sinks'), undefined);
        await store.saveAuditSinkCursor('sinks', 40);
        await store.saveAuditSinkCursor('other', 7);
        await store.saveAuditSinkCursor('sinks', 12);
        assert.equal(await store.auditSinkCursor('sinks'), 40);
        await store.saveAuditSinkCursor('sinks', 41);
        await store.close();
        store = await openStore({ url });
        assert.deepEqual(
          [await store.auditSinkCursor('sinks'), await store.auditSinkCursor('other')],
          [41, 7],
        );
        await assert.rejects(store.saveAuditSinkCursor('', 1));
        await assert.rejects(store.saveAuditSinkCursor('fresh', -1));
        assert.equal(await store.auditSinkCursor('fresh'), undefined);
      } finally {
        await store.close();
      }
    });
  });
}

describeCursor('sqlite', sqliteBackend());
describeCursor('postgres', postgresBackend());
