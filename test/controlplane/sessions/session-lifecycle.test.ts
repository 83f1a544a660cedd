import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../../src/controlplane/index.ts';
import { bearer, type Harness, loginToken, startHarness } from '../http/harness.ts';
import type { StoreBackend } from '../store-suite.ts';
import { postgresBackend, sqliteBackend } from '../store-backends.ts';

// Sessions (src/controlplane/sessions/) beyond what a request sees: revocations made directly in
// the store are noticed by the sweep (listeners told), and a session whose stored refresh token
// a restarted control plane cannot open (another session key) is ended at its next use, because
// it can no longer be re-checked with the IdP. (Sessions kept across a restart and shared by
// replicas: shared-sessions.test.ts.)

function describeLifecycle(name: string, backend: StoreBackend): void {
  describe(`session lifecycle (${name})`, () => {
    let h: Harness;
    let url: string;
    before(async () => {
      url = await backend.freshUrl();
      h = await startHarness({ storeUrl: url, sweepIntervalMs: 60_000 });
    });
    after(() => h?.close());

    it('notices a revocation made in the store (a disabled user) on the next sweep', async () => {
      const token = await loginToken(h.origin, 'carol@example.com');
      const ended: string[] = [];
      const stop = h.server.sessions.onSessionEnded((_id, reason) => ended.push(reason));
      await h.store.updateUser('carol@example.com', { disabled: true });
      await h.server.sessions.sweep();
      stop();
      assert.deepEqual(ended, ['revoked']);
      assert.ok(h.codes().includes('session.revoked store_revoked'));
      assert.equal((await fetch(`${h.origin}/api/me`, { headers: bearer(token) })).status, 401);
      // And a user disabled in Paddock cannot sign in again.
      const events = h.events.length;
      await assert.rejects(loginToken(h.origin, 'carol@example.com'));
      assert.ok(h.codes().slice(events).includes('session.login_failed user_disabled'));
      await h.store.updateUser('carol@example.com', { disabled: false });
    });

    it('ends a session the restarted control plane cannot re-check (another session key) at its next use', async () => {
      const token = await loginToken(h.origin, 'dave@example.com');
      const restarted = await startHarness({ storeUrl: url, sweepIntervalMs: 60_000 });
      try {
        assert.equal((await fetch(`${restarted.origin}/api/me`, { headers: bearer(token) })).status, 401);
        assert.deepEqual(restarted.codes(), ['session.revoked refresh_unavailable']);
        const store = await openStore({ url });
        try {
          assert.deepEqual(await store.listActiveSessions('dave@example.com'), []);
        } finally {
          await store.close();
        }
      } finally {
        await restarted.close();
      }
    });
  });
}

describeLifecycle('sqlite', sqliteBackend());
describeLifecycle('postgres', postgresBackend());
