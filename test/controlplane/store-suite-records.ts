import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoreContext } from './store-suite.ts';
import { describeStoreReviews } from './store-suite-reviews.ts';

// Users, workspaces and sessions; part of the shared suite in store-suite.ts.

const ADA = { id: 'ada@example.com', displayName: 'Ada Lovelace', groups: ['engineering', 'appsec'] };
const HOUR = 3_600_000;

export function describeStoreRecords(ctx: StoreContext): void {
  describe('users', () => {
    it('create, read, list, update and delete', async () => {
      const created = await ctx.store.createUser(ADA);
      assert.deepEqual(created, { ...ADA, disabled: false, createdAt: ctx.clock.t, updatedAt: ctx.clock.t });
      await ctx.store.createUser({ id: 'bob@example.com', displayName: 'Bob' });
      assert.deepEqual(await ctx.store.getUser(ADA.id), created);
      assert.equal(await ctx.store.getUser('nobody@example.com'), undefined);
      assert.deepEqual(
        (await ctx.store.listUsers()).map((u) => [u.id, u.groups]),
        [
          ['ada@example.com', ['engineering', 'appsec']],
          ['bob@example.com', []],
        ],
      );

      ctx.clock.t += 1000;
      const renamed = await ctx.store.updateUser(ADA.id, { displayName: 'Ada King' });
      assert.deepEqual(renamed, { ...created, displayName: 'Ada King', updatedAt: created.createdAt + 1000 });
      const regrouped = await ctx.store.updateUser(ADA.id, { groups: ['Ωmega', 'with "quotes"'] });
      assert.deepEqual(regrouped.groups, ['Ωmega', 'with "quotes"']);
      assert.equal(regrouped.displayName, 'Ada King');

      await ctx.store.deleteUser('bob@example.com');
      assert.equal(await ctx.store.getUser('bob@example.com'), undefined);
    });

    it('refuse a duplicate id and report a missing one', async () => {
      await ctx.store.createUser(ADA);
      await assert.rejects(ctx.store.createUser(ADA), {
        code: 'PDK_STORE_CONFLICT',
        message: 'user ada@example.com already exists',
      });
      await assert.rejects(ctx.store.updateUser('nobody@example.com', { displayName: 'x' }), {
        code: 'PDK_STORE_NOT_FOUND',
        message: 'user nobody@example.com not found',
      });
      await assert.rejects(ctx.store.deleteUser('nobody@example.com'), {
        code: 'PDK_STORE_NOT_FOUND',
        message: 'user nobody@example.com not found',
      });
    });

    it('keep a user who owns workspaces', async () => {
      await ctx.store.createUser(ADA);
      await ctx.store.createWorkspace({
        id: 'ws-1',
        owner: ADA.id,
        profile: 'p',
        provider: 'local',
        state: 'requested',
      });
      await assert.rejects(ctx.store.deleteUser(ADA.id), {
        code: 'PDK_STORE_CONFLICT',
        message: 'user ada@example.com owns workspaces and cannot be deleted: disable the user instead',
      });
      assert.ok(await ctx.store.getUser(ADA.id));
    });

    it('revoke every active session when disabled, and refuse new ones', async () => {
      await ctx.store.createUser(ADA);
      await ctx.store.createSession({ id: 's-1', userId: ADA.id, expiresAt: ctx.clock.t + HOUR });
      await ctx.store.createSession({ id: 's-2', userId: ADA.id, expiresAt: ctx.clock.t + HOUR });
      ctx.clock.t += 10;
      const disabled = await ctx.store.updateUser(ADA.id, { disabled: true });
      assert.equal(disabled.disabled, true);
      assert.deepEqual(await ctx.store.listActiveSessions(ADA.id), []);
      assert.equal((await ctx.store.getSession('s-1'))?.revokedAt, ctx.clock.t);
      await assert.rejects(
        ctx.store.createSession({ id: 's-3', userId: ADA.id, expiresAt: ctx.clock.t + HOUR }),
        {
          code: 'PDK_STORE_CONFLICT',
          message: 'user ada@example.com is disabled: enable the user before starting a session',
        },
      );
      await ctx.store.updateUser(ADA.id, { disabled: false });
      await ctx.store.createSession({ id: 's-3', userId: ADA.id, expiresAt: ctx.clock.t + HOUR });
    });
    it('let one replica claim a session refresh at a time; a claim whose lease ran out can be taken', async () => {
      await ctx.store.createUser(ADA);
      await ctx.store.createSession({ id: 's-1', userId: ADA.id, expiresAt: ctx.clock.t + HOUR });
      const read = (await ctx.store.getSessionWithAuth('s-1'))!.refreshVersion;
      const lease = ctx.clock.t + 60_000;
      const claimed = await ctx.store.claimSessionRefresh('s-1', read, lease);
      assert.ok(claimed !== undefined, 'the first claim holds');
      // Another replica read the session after that claim: the version it saw is the claim's.
      const seen = (await ctx.store.getSessionWithAuth('s-1'))!.refreshVersion;
      assert.equal(
        await ctx.store.claimSessionRefresh('s-1', seen, lease),
        undefined,
        'a held claim is not taken over',
      );
      assert.equal(
        await ctx.store.claimSessionRefresh('s-1', read, lease),
        undefined,
        'a stale read claims nothing',
      );
      // The claimant died: after its lease, another replica may claim, and the dead one cannot complete.
      ctx.clock.t = lease;
      const taken = await ctx.store.claimSessionRefresh('s-1', seen, ctx.clock.t + 60_000);
      assert.ok(taken !== undefined && taken !== claimed);
      const update = { idpUser: {}, refreshSealed: 'v1.x', nextRefreshAt: ctx.clock.t + HOUR };
      assert.equal(await ctx.store.completeSessionRefresh('s-1', claimed!, update), false);
      assert.equal(await ctx.store.completeSessionRefresh('s-1', taken!, update), true);
      // Done: the next claim needs no lease to run out.
      const after = (await ctx.store.getSessionWithAuth('s-1'))!.refreshVersion;
      assert.ok((await ctx.store.claimSessionRefresh('s-1', after, ctx.clock.t + 60_000)) !== undefined);
    });
  });

  describe('workspaces', () => {
    const ws = { id: 'ws-ada', owner: ADA.id, profile: 'standard', provider: 'local', state: 'requested' };

    it('start at version 1 and move only from the expected state and version', async () => {
      await ctx.store.createUser(ADA);
      const created = await ctx.store.createWorkspace(ws);
      assert.deepEqual(created, { ...ws, stateVersion: 1, createdAt: ctx.clock.t, updatedAt: ctx.clock.t });
      ctx.clock.t += 5;
      const running = await ctx.store.transitionWorkspace(ws.id, 'requested', 'running', 1);
      assert.deepEqual(running, { ...created, state: 'running', stateVersion: 2, updatedAt: ctx.clock.t });
      await assert.rejects(ctx.store.transitionWorkspace(ws.id, 'requested', 'running', 1), {
        code: 'PDK_STORE_CONFLICT',
        message:
          'workspace ws-ada is running at version 2, not requested at version 1: another change won; ' +
          're-read the workspace and decide again',
      });
      await assert.rejects(ctx.store.transitionWorkspace(ws.id, 'stopped', 'running', 2), {
        code: 'PDK_STORE_CONFLICT',
        message: /^workspace ws-ada is running at version 2, not stopped at version 2:/,
      });
      await assert.rejects(ctx.store.transitionWorkspace('ws-none', 'requested', 'running', 1), {
        code: 'PDK_STORE_NOT_FOUND',
        message: 'workspace ws-none not found',
      });
      assert.deepEqual(await ctx.store.getWorkspace(ws.id), running);
    });

    it('let exactly one of two concurrent replicas win a transition', async () => {
      await ctx.store.createUser(ADA);
      await ctx.store.createWorkspace(ws);
      const other = await ctx.replica();
      const results = await Promise.allSettled([
        ctx.store.transitionWorkspace(ws.id, 'requested', 'running', 1),
        other.transitionWorkspace(ws.id, 'requested', 'failed', 1),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      assert.equal(won.length, 1);
      assert.equal(lost.length, 1);
      assert.equal((lost[0] as PromiseRejectedResult).reason.code, 'PDK_STORE_CONFLICT');
      const final = await ctx.store.getWorkspace(ws.id);
      assert.equal(final?.stateVersion, 2);
      assert.equal(final?.state, (won[0] as PromiseFulfilledResult<{ state: string }>).value.state);
    });

    it('refuse an unknown owner and a duplicate id; list by owner', async () => {
      await assert.rejects(ctx.store.createWorkspace(ws), {
        code: 'PDK_STORE_NOT_FOUND',
        message: 'workspace owner ada@example.com is not a known user',
      });
      await ctx.store.createUser(ADA);
      await ctx.store.createUser({ id: 'bob@example.com', displayName: 'Bob' });
      await ctx.store.createWorkspace(ws);
      await ctx.store.createWorkspace({ ...ws, id: 'ws-bob', owner: 'bob@example.com' });
      await assert.rejects(ctx.store.createWorkspace(ws), {
        code: 'PDK_STORE_CONFLICT',
        message: 'workspace ws-ada already exists',
      });
      assert.deepEqual(
        (await ctx.store.listWorkspaces()).map((w) => w.id),
        ['ws-ada', 'ws-bob'],
      );
      assert.deepEqual(
        (await ctx.store.listWorkspaces({ owner: 'bob@example.com' })).map((w) => w.id),
        ['ws-bob'],
      );
    });
  });

  describe('sessions', () => {
    it('touch, revoke idempotently and expire', async () => {
      await ctx.store.createUser(ADA);
      const start = ctx.clock.t;
      const session = await ctx.store.createSession({ id: 's-1', userId: ADA.id, expiresAt: start + HOUR });
      assert.deepEqual(session, {
        id: 's-1',
        userId: ADA.id,
        createdAt: start,
        expiresAt: start + HOUR,
        lastSeenAt: start,
        revokedAt: null,
      });
      ctx.clock.t += 1;
      await ctx.store.createSession({ id: 's-2', userId: ADA.id, expiresAt: start + 2 * HOUR });
      ctx.clock.t = start + 60_000;
      assert.equal((await ctx.store.touchSession('s-1'))?.lastSeenAt, start + 60_000);
      // A touch from earlier that commits late (another connection, another replica) does not
      // move it back, and neither does a use.
      ctx.clock.t = start + 30_000;
      assert.equal((await ctx.store.touchSession('s-1'))?.lastSeenAt, start + 60_000);
      assert.equal((await ctx.store.recordSessionUse('s-1', HOUR))?.session.lastSeenAt, start + 60_000);
      ctx.clock.t = start + 60_000;
      assert.deepEqual(
        (await ctx.store.listActiveSessions(ADA.id)).map((s) => s.id),
        ['s-2', 's-1'],
      );

      const revoked = await ctx.store.revokeSession('s-1');
      assert.equal(revoked.revokedAt, start + 60_000);
      ctx.clock.t += 1;
      assert.equal((await ctx.store.revokeSession('s-1')).revokedAt, start + 60_000);
      assert.equal(await ctx.store.touchSession('s-1'), undefined);

      ctx.clock.t = start + HOUR + 1;
      assert.deepEqual(
        (await ctx.store.listActiveSessions(ADA.id)).map((s) => s.id),
        ['s-2'],
      );
      ctx.clock.t = start + 2 * HOUR;
      assert.deepEqual(await ctx.store.listActiveSessions(ADA.id), []);
      assert.equal(await ctx.store.touchSession('s-2'), undefined);
    });

    it('revoke all of a user; refuse bad input', async () => {
      await ctx.store.createUser(ADA);
      await ctx.store.createSession({ id: 's-1', userId: ADA.id, expiresAt: ctx.clock.t + HOUR });
      await ctx.store.createSession({ id: 's-2', userId: ADA.id, expiresAt: ctx.clock.t + HOUR });
      assert.equal(await ctx.store.revokeUserSessions(ADA.id), 2);
      assert.equal(await ctx.store.revokeUserSessions(ADA.id), 0);
      await assert.rejects(
        ctx.store.createSession({ id: 's-1', userId: ADA.id, expiresAt: ctx.clock.t + HOUR }),
        {
          code: 'PDK_STORE_CONFLICT',
          message: 'session s-1 already exists',
        },
      );
      await assert.rejects(
        ctx.store.createSession({ id: 's-x', userId: 'eve@example.com', expiresAt: ctx.clock.t + 1 }),
        {
          code: 'PDK_STORE_NOT_FOUND',
          message: 'session user eve@example.com is not a known user',
        },
      );
      await assert.rejects(ctx.store.createSession({ id: 's-y', userId: ADA.id, expiresAt: ctx.clock.t }), {
        code: 'PDK_INTERNAL',
        message: `session expiresAt ${ctx.clock.t} is not a time after now (${ctx.clock.t})`,
      });
      await assert.rejects(ctx.store.revokeSession('s-none'), {
        code: 'PDK_STORE_NOT_FOUND',
        message: 'session s-none not found',
      });
    });
  });

  describe('release attestations', () => {
    const applied = {
      channel: 'canary',
      blueprint: 'code-review',
      state: 'applied' as const,
      bundle: { id: 'code-review:0123456789abcdef', version: '1.3.0', hash: 'a'.repeat(64) },
      release: 1,
      commit: 'c'.repeat(40),
    };

    it("keep each workspace's latest attestation, seen by every replica", async () => {
      await ctx.store.saveReleaseAttestation('ws-b', {
        ...applied,
        state: 'deny-all',
        bundle: null,
        release: 0,
      });
      await ctx.store.saveReleaseAttestation('ws-a', applied);
      ctx.clock.t += 5_000;
      const replica = await ctx.replica();
      await replica.saveReleaseAttestation('ws-b', { ...applied, release: 2 });
      assert.deepEqual(await ctx.store.releaseAttestations(), [
        { workspaceId: 'ws-a', receivedAt: '2025-01-01T00:00:00.000Z', attestation: applied },
        {
          workspaceId: 'ws-b',
          receivedAt: '2025-01-01T00:00:05.000Z',
          attestation: { ...applied, release: 2 },
        },
      ]);
    });

    it('refuse an attestation outside the channel protocol, and skip a row edited into one', async () => {
      await assert.rejects(
        ctx.store.saveReleaseAttestation('ws-a', { ...applied, workspaceId: 'ws-b' } as never),
      );
      await ctx.store.saveReleaseAttestation('ws-a', applied);
      await ctx.backend.sql(
        ctx.url,
        `INSERT INTO release_attestations (workspace_id, channel, attestation, received_at) VALUES ('ws-x', 'canary', '{"state":"applied"}', 0)`,
      );
      assert.deepEqual(
        (await ctx.store.releaseAttestations()).map((record) => record.workspaceId),
        ['ws-a'],
      );
    });
  });

  describeStoreReviews(ctx);
}
