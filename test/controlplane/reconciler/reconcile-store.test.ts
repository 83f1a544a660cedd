import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStore } from '../../../src/controlplane/index.ts';
import { postgresBackend, sqliteBackend } from '../store-backends.ts';

// The reconciler's records (migration 0004) behave alike on SQLite and PostgreSQL: one open
// apply at a time, a step done once, its marks stored with it, and the apply closed once.

for (const [name, backend] of [
  ['sqlite', sqliteBackend()],
  ['postgres', postgresBackend()],
] as const) {
  describe(`reconciler records (${name})`, () => {
    it('keeps one open apply, its progress and marks, across a reopen of the store', async () => {
      const url = await backend.freshUrl();
      let store = await openStore({ url });
      assert.ok(store.schemaVersion >= 4);
      const plan = { commit: 'c1', steps: [{ kind: 'adopt' }, { kind: 'adopt' }] };
      const apply = await store.beginReconcileApply({
        id: 'ap-1',
        commit: 'c1',
        plan,
        approvedBy: 'alice@example.com',
      });
      assert.equal(apply.status, 'open');
      await assert.rejects(
        store.beginReconcileApply({ id: 'ap-2', commit: 'c2', plan, approvedBy: 'bob@example.com' }),
        { code: 'PDK_STORE_CONFLICT' },
      );
      await store.completeReconcileStep('ap-1', 0, [
        { kind: 'workspace', name: 'ws-1', hash: 'h1', detail: 'img', commit: 'c1' },
      ]);
      await assert.rejects(store.completeReconcileStep('ap-1', 0, []), { code: 'PDK_STORE_CONFLICT' });
      // What a restarted process sees.
      await store.close();
      store = await openStore({ url });
      const open = await store.openReconcileApply();
      assert.deepEqual(open && [open.id, open.commit, open.approvedBy, open.doneSteps, open.plan], [
        'ap-1',
        'c1',
        'alice@example.com',
        [0],
        plan,
      ]);
      await store.completeReconcileStep('ap-1', 1, [
        { kind: 'workspace', name: 'ws-1', hash: 'h2', detail: 'img2', commit: 'c1' },
        { kind: 'bundle', name: 'code-review', hash: 'b1', detail: 'code-review:1', commit: 'c1' },
      ]);
      await store.finishReconcileApply('ap-1');
      await assert.rejects(store.finishReconcileApply('ap-1'), { code: 'PDK_STORE_NOT_FOUND' });
      await assert.rejects(store.completeReconcileStep('ap-1', 2, []), { code: 'PDK_STORE_NOT_FOUND' });
      assert.equal(await store.openReconcileApply(), undefined);
      assert.equal((await store.lastReconcileApply())?.id, 'ap-1');
      assert.deepEqual(
        (await store.listReconcileMarks()).map((mark) => [mark.kind, mark.name, mark.hash, mark.detail]),
        [
          ['bundle', 'code-review', 'b1', 'code-review:1'],
          ['workspace', 'ws-1', 'h2', 'img2'],
        ],
      );
      // Another apply may start now.
      await store.beginReconcileApply({ id: 'ap-2', commit: 'c2', plan, approvedBy: 'bob@example.com' });
      await store.close();
    });
  });
}
