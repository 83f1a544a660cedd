import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { OcsfEvent } from '../../../src/audit/index.ts';
import { ChannelServer, IdentityRegistry } from '../../../src/controlplane/channel/index.ts';
import { openStore, type Store } from '../../../src/controlplane/index.ts';
import { WorkspaceLifecycle } from '../../../src/controlplane/workspaces/index.ts';
import { isPaddockError } from '../../../src/core/errors.ts';
import { LocalProvider, workspaceDirs } from '../../../src/providers/index.ts';
import { assertValidOcsf } from '../../audit/ocsf-schema.ts';
import type { StoreBackend } from '../store-suite.ts';

// The lifecycle over a real store (each backend), a real channel server and identity
// registry, and the real local provider (its supervisor processes start and stop here; no
// terminal is opened, so no sandbox is built: that is the end-to-end test's).

const CONFIG_DIR = new URL('../../../examples/platform/', import.meta.url).pathname;

export function describeLifecycle(name: string, backend: StoreBackend): void {
  describe(`workspace lifecycle (${name})`, () => {
    let dataDir: string;
    let url: string;
    let stores: Store[];
    let channel: ChannelServer;
    let identities: IdentityRegistry;
    let provider: LocalProvider;
    let events: OcsfEvent[];
    let revokedSessions: string[];
    let closedTerminals: string[];

    const lifecycleOn = (store: Store) =>
      new WorkspaceLifecycle({
        store,
        channel,
        identities,
        providers: new Map([['local', provider]]),
        configDir: CONFIG_DIR,
        blueprintFor: () => 'coding-agent',
        audit: async (event) => events.push(event),
        revokeHooks: {
          endSessions: async (user) => revokedSessions.push(user),
          closeTerminals: (workspace) => void closedTerminals.push(workspace),
        },
      });

    beforeEach(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'paddock-lifecycle-'));
      url = await backend.freshUrl();
      stores = [await openStore({ url }), await openStore({ url })];
      identities = new IdentityRegistry({ file: join(dataDir, 'identities.json') });
      channel = await ChannelServer.start({ registry: identities });
      provider = new LocalProvider({ dataDir, stopGraceMs: 5000 });
      events = [];
      revokedSessions = [];
      closedTerminals = [];
      await stores[0]!.createUser({ id: 'ada@example.com', displayName: 'Ada' });
    });
    afterEach(async () => {
      await provider.close();
      await channel.close();
      for (const store of stores) await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const eventCodes = () => events.map((event) => event.metadata.event_code);

    it('creates, starts, stops, rebuilds, revokes and decommissions, auditing each transition', async () => {
      const lifecycle = lifecycleOn(stores[0]!);
      const created = await lifecycle.create('admin@example.com', {
        id: 'ws-ada',
        owner: 'ada@example.com',
        profile: 'standard-local',
      });
      assert.deepEqual(
        { ...created, createdAt: 0, updatedAt: 0 },
        {
          id: 'ws-ada',
          owner: 'ada@example.com',
          profile: 'standard-local',
          provider: 'local',
          state: 'created',
          stateVersion: 1,
          createdAt: 0,
          updatedAt: 0,
          connected: false,
        },
      );
      const dirs = workspaceDirs(dataDir, 'ws-ada');
      assert.ok(existsSync(dirs.home) && existsSync(dirs.workspace));

      const running = await lifecycle.start('ada@example.com', 'ws-ada');
      assert.deepEqual([running.state, running.stateVersion], ['running', 2]);
      assert.equal(provider.status('ws-ada'), 'running');
      await channel.waitForConnection('ws-ada', 20_000);
      assert.equal((await lifecycle.get('ws-ada')).connected, true);

      const stopped = await lifecycle.stop('ada@example.com', 'ws-ada');
      assert.deepEqual([stopped.state, stopped.connected], ['stopped', false]);
      assert.equal(provider.status('ws-ada'), 'stopped');

      const rebuilt = await lifecycle.rebuild('ada@example.com', 'ws-ada');
      assert.deepEqual([rebuilt.state, rebuilt.stateVersion], ['stopped', 4]);

      const revoked = await lifecycle.act('secops@example.com', 'ws-ada', 'revoke');
      assert.equal(revoked.state, 'revoked');
      assert.deepEqual(revokedSessions, ['ada@example.com']);
      assert.deepEqual(closedTerminals, ['ws-ada']);
      assert.equal(existsSync(dirs.identityFile), false);
      assert.equal(await identities.isRevoked('ws-ada'), true);

      const gone = await lifecycle.decommission('admin@example.com', 'ws-ada');
      assert.equal(gone.state, 'decommissioned');
      assert.equal(existsSync(dirs.root), false);

      assert.deepEqual(eventCodes(), [
        'workspace.created',
        'workspace.started',
        'workspace.stopped',
        'workspace.rebuilt',
        'workspace.revoked',
        'workspace.decommissioned',
      ]);
      for (const event of events) {
        assertValidOcsf(event);
        assert.equal(event.class_uid, 6002);
        assert.equal((event['device'] as { uid: string }).uid, 'ws-ada');
      }
      assert.deepEqual(
        events.map((event) => (event['actor'] as { user: { uid: string } }).user.uid),
        [
          'admin@example.com',
          'ada@example.com',
          'ada@example.com',
          'ada@example.com',
          'secops@example.com',
          'admin@example.com',
        ],
      );
      assert.deepEqual(
        (await lifecycle.list({ owner: 'ada@example.com' })).map((view) => view.state),
        ['decommissioned'],
      );
    });

    it('resumes running workspaces after a control plane restart, with a fresh identity', async () => {
      const lifecycle = lifecycleOn(stores[0]!);
      await lifecycle.create('admin@example.com', {
        id: 'ws-back',
        owner: 'ada@example.com',
        profile: 'standard-local',
      });
      await lifecycle.start('ada@example.com', 'ws-back');
      await channel.waitForConnection('ws-back', 20_000);
      const firstKid = JSON.parse(readFileSync(workspaceDirs(dataDir, 'ws-back').identityFile, 'utf8')).kid;
      // The control plane goes away: its provider's supervisors with it; the store still says running.
      await provider.close();
      provider = new LocalProvider({ dataDir, stopGraceMs: 5000 });
      const restarted = lifecycleOn(stores[1]!);
      assert.deepEqual(await restarted.resume(), ['ws-back']);
      await channel.waitForConnection('ws-back', 20_000);
      const kid = JSON.parse(readFileSync(workspaceDirs(dataDir, 'ws-back').identityFile, 'utf8')).kid;
      assert.notEqual(kid, firstKid);
      assert.equal((await identities.lookup(firstKid))?.status, 'rotated');
      assert.deepEqual(await restarted.resume(), []);
    });

    it('audits a provider failure as a failed transition, and a workspace that failed to start is stopped', async () => {
      await lifecycleOn(stores[0]!).create('admin@example.com', {
        id: 'ws-fail',
        owner: 'ada@example.com',
        profile: 'standard-local',
      });
      // A provider whose data directory lies beneath one the sandboxes cannot traverse.
      const closed = join(dataDir, 'closed');
      mkdirSync(join(closed, 'data'), { recursive: true });
      chmodSync(closed, 0o700);
      const broken = new WorkspaceLifecycle({
        store: stores[0]!,
        channel,
        identities,
        providers: new Map([['local', new LocalProvider({ dataDir: join(closed, 'data') })]]),
        configDir: CONFIG_DIR,
        blueprintFor: () => 'coding-agent',
        audit: async (event) => events.push(event),
      });
      await assert.rejects(broken.start('ada@example.com', 'ws-fail'), (error) => {
        assert.ok(isPaddockError(error, 'PDK_WORKSPACE_PROVIDER'));
        assert.match(
          error.message,
          /start of workspace ws-fail \(provider local\) failed: .*not traversable/,
        );
        return true;
      });
      const after = await broken.get('ws-fail');
      assert.deepEqual([after.state, after.stateVersion], ['stopped', 3]);
      const failed = events.at(-1)!;
      assertValidOcsf(failed);
      assert.deepEqual(
        [failed.metadata.event_code, failed['status_id'], failed['status_code'], failed.severity_id],
        ['workspace.started', 2, 'pdk_workspace_provider', 3],
      );
    });

    it('refuses illegal transitions with a coded error naming the state and the action', async () => {
      const lifecycle = lifecycleOn(stores[0]!);
      await lifecycle.create('admin@example.com', {
        id: 'ws-x',
        owner: 'ada@example.com',
        profile: 'standard-local',
      });
      const refused = async (
        action: 'start' | 'stop' | 'decommission' | 'rebuild' | 'revoke',
        state: string,
      ) => {
        await assert.rejects(lifecycle.act('ada@example.com', 'ws-x', action), (error) => {
          assert.ok(isPaddockError(error, 'PDK_WORKSPACE_TRANSITION'), String(error));
          assert.match(error.message, new RegExp(`is ${state}: ${action} is not allowed`));
          assert.deepEqual((error.details as { state: string; action: string }).state, state);
          return true;
        });
      };
      await refused('stop', 'created');
      await lifecycle.revoke('ada@example.com', 'ws-x');
      for (const action of ['start', 'stop', 'rebuild', 'revoke'] as const) await refused(action, 'revoked');
      await lifecycle.decommission('ada@example.com', 'ws-x');
      for (const action of ['start', 'stop', 'rebuild', 'revoke', 'decommission'] as const)
        await refused(action, 'decommissioned');
      await assert.rejects(lifecycle.get('ws-missing'), (error) =>
        isPaddockError(error, 'PDK_WORKSPACE_NOT_FOUND'),
      );
      // Refused actions change nothing and audit nothing.
      assert.deepEqual(eventCodes(), ['workspace.created', 'workspace.revoked', 'workspace.decommissioned']);
      assert.equal((await lifecycle.get('ws-x')).stateVersion, 3);
    });

    it('of two racing transitions from two control planes, one wins and the other gets PDK_STORE_CONFLICT', async () => {
      // Both writers must have read the workspace before either writes, so each store's
      // transitionWorkspace waits at a barrier for the other (the stores themselves are real).
      let arrived = 0;
      let release!: () => void;
      const bothRead = new Promise<void>((resolve) => {
        release = resolve;
      });
      const atBarrier = (store: Store): Store =>
        new Proxy(store, {
          get(target, property, receiver) {
            if (property !== 'transitionWorkspace') {
              const value = Reflect.get(target, property, receiver);
              return typeof value === 'function' ? value.bind(target) : value;
            }
            return async (...args: Parameters<Store['transitionWorkspace']>) => {
              if (++arrived === 2) release();
              await bothRead;
              return target.transitionWorkspace(...args);
            };
          },
        });
      await lifecycleOn(stores[0]!).create('admin@example.com', {
        id: 'ws-race',
        owner: 'ada@example.com',
        profile: 'standard-local',
      });
      const first = lifecycleOn(atBarrier(stores[0]!));
      const second = lifecycleOn(atBarrier(stores[1]!));
      const results = await Promise.allSettled([
        first.rebuild('ada@example.com', 'ws-race'),
        second.revoke('secops@example.com', 'ws-race'),
      ]);
      const won = results.filter((result) => result.status === 'fulfilled');
      const lost = results.filter((result) => result.status === 'rejected');
      assert.equal(won.length, 1, JSON.stringify(results));
      const reason = (lost[0] as PromiseRejectedResult).reason as Error;
      assert.ok(isPaddockError(reason, 'PDK_STORE_CONFLICT'), String(reason));
      assert.match(reason.message, /another change won/);
      const after = await first.get('ws-race');
      assert.equal(after.stateVersion, 2);
      assert.equal(after.state, (won[0] as PromiseFulfilledResult<{ state: string }>).value.state);
      // Only the winner's transition was audited.
      assert.equal(events.length, 2);
    });
  });
}
