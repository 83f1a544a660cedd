import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openStore } from '../../../src/controlplane/index.ts';
import {
  channelRelease,
  fetchRepository,
  planSource,
  type ReconcileActions,
  resumeOpenApply,
  startApply,
} from '../../../src/controlplane/reconciler/index.ts';
import { openReleaseRepository } from '../../../src/controlplane/releases/index.ts';
import { commitAndPush, initGitRepository } from './fixtures.ts';

// The release step through the real release module: a commit of a real Git repository compiled
// and published to a TUF channel, audited with commit and approver; a release that needs a
// second signer keeps the apply open (PDK_RELEASE_THRESHOLD) and is resumed once possible.

const root = mkdtempSync(join(tmpdir(), 'paddock-release-adapter-'));
after(() => rmSync(root, { recursive: true, force: true }));
const bare = join(root, 'desired.git');
const work = join(root, 'work');

/** No workspaces in these plans: a step that would touch one is a test failure. */
const noWorkspaces = (release: ReconcileActions['release']): ReconcileActions => {
  const refuse = async () => {
    throw new Error('unexpected workspace step');
  };
  return { create: refuse, reprovision: refuse, rebuild: refuse, revoke: refuse, release };
};

describe('release through the release module', () => {
  it('publishes the commit to the channel and audits each bundle with commit and approver', async () => {
    initGitRepository(bare, work, [
      { users: ['nobody@example.com'], profile: 'standard-local', blueprints: ['coding-agent'] },
    ]);
    // No users: only the release is planned.
    writeFileSync(
      join(work, 'assignments.yaml'),
      'apiVersion: paddock.dev/v1\nkind: Assignments\nspec:\n  assignments: []\n',
    );
    const commit = commitAndPush(work, bare, 'no assignments');
    const repository = openReleaseRepository({
      dir: join(root, 'releases'),
      channels: [
        { name: 'canary', threshold: 1 },
        { name: 'stable', threshold: 2 },
      ],
    });
    const store = await openStore({ url: `sqlite:${join(root, 'store.db')}` });
    const audited: {
      metadata: { event_code: string };
      unmapped: { paddock: { commit: string; approved_by: string; channel: string } };
    }[] = [];
    const options = {
      store,
      audit: async (event: Record<string, unknown>) => audited.push(event as never),
      actions: noWorkspaces(channelRelease({ repository, gitDir: bare })),
    };
    try {
      const source = await fetchRepository(`file://${bare}`, 'main', join(root, 'cache'));
      const { plan } = await planSource(source, store);
      assert.deepEqual(
        plan.steps.map((step) => step.kind),
        ['release'],
      );
      await startApply(plan, 'alice@example.com', options);
      const status = repository.status('canary');
      assert.ok(status, 'canary has a release');
      assert.equal(audited.length, 6);
      for (const event of audited) {
        assert.equal(event.metadata.event_code, 'policy.released');
        assert.equal(event.unmapped.paddock.commit, commit);
        assert.equal(event.unmapped.paddock.approved_by, 'alice@example.com');
        assert.equal(event.unmapped.paddock.channel, 'canary');
      }
      assert.deepEqual((await planSource(source, store)).plan.steps, []);

      // stable needs two signers; with one the release waits and the apply stays open.
      const stableStore = await openStore({ url: `sqlite:${join(root, 'stable.db')}` });
      const stable = {
        ...options,
        store: stableStore,
        actions: noWorkspaces(
          channelRelease({
            repository,
            channel: 'stable',
            gitDir: bare,
            signers: () => repository.defaultSigners('stable').slice(0, 1),
          }),
        ),
      };
      const stablePlan = (await planSource(source, stableStore)).plan;
      await assert.rejects(
        startApply(stablePlan, 'alice@example.com', stable),
        (error: Error & { details?: { code?: string } }) => {
          assert.equal(error.details?.code, 'PDK_RELEASE_THRESHOLD');
          return true;
        },
      );
      assert.ok(await stableStore.openReconcileApply());
      const both = {
        ...stable,
        actions: noWorkspaces(channelRelease({ repository, channel: 'stable', gitDir: bare })),
      };
      const resumed = await resumeOpenApply(both);
      assert.equal(resumed?.ran, 1);
      await stableStore.close();
    } finally {
      await store.close();
    }
  });
});
