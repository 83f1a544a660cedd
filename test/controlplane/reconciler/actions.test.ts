import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  ChannelServer,
  IdentityRegistry,
  openStore,
  WorkspaceLifecycle,
} from '../../../src/controlplane/index.ts';
import { lifecycleActions } from '../../../src/controlplane/reconciler/index.ts';
import { LocalProvider } from '../../../src/providers/index.ts';

// The lifecycle-backed steps as `paddock apply` (a process that supervises no workspace) uses
// them: a running workspace is refused before anything changes, a stopped one is revoked.

const root = mkdtempSync(join(tmpdir(), 'paddock-actions-'));
chmodSync(root, 0o711);
after(() => rmSync(root, { recursive: true, force: true }));

describe('lifecycle actions outside the supervising process', () => {
  it('refuse to rebuild or revoke a running workspace, and revoke a stopped one', async () => {
    const store = await openStore({ url: `sqlite:${join(root, 'store.db')}` });
    const identities = new IdentityRegistry();
    const channel = await ChannelServer.start({
      registry: identities,
      listen: { path: join(root, 'channel.sock') },
    });
    const provider = new LocalProvider({ dataDir: join(root, 'data') });
    const lifecycle = new WorkspaceLifecycle({
      store,
      channel,
      identities,
      providers: new Map([['local', provider]]),
      configDir: root,
      blueprintFor: () => 'coding-agent',
      audit: async () => {},
    });
    try {
      await store.createUser({ id: 'ada@example.com', displayName: 'Ada' });
      for (const [id, state] of [
        ['ws-running', 'running'],
        ['ws-stopped', 'stopped'],
      ] as const) {
        await store.createWorkspace({
          id,
          owner: 'ada@example.com',
          profile: 'standard-local',
          provider: 'local',
          state: 'created',
        });
        const running = await store.transitionWorkspace(id, 'created', 'running', 1);
        if (state === 'stopped')
          await store.transitionWorkspace(id, 'running', 'stopped', running.stateVersion);
      }
      const actions = lifecycleActions(lifecycle, { refuseRunning: true });
      await assert.rejects(actions.revoke('lead@example.com', 'ws-running'), {
        code: 'PDK_RECONCILE_RUNNING',
      });
      await assert.rejects(actions.rebuild('lead@example.com', 'ws-running'), {
        code: 'PDK_RECONCILE_RUNNING',
      });
      assert.equal((await store.getWorkspace('ws-running'))?.state, 'running');
      await actions.revoke('lead@example.com', 'ws-stopped');
      assert.equal((await store.getWorkspace('ws-stopped'))?.state, 'revoked');
    } finally {
      await provider.close();
      await channel.close();
      await store.close();
    }
  });
});
