import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { openStore, type Store } from '../../../src/controlplane/index.ts';
import {
  directorySource,
  type Plan,
  planSource,
  WITHDRAWN,
  workspaceIdFor,
} from '../../../src/controlplane/reconciler/index.ts';
import { writeAssignments, writeDesiredState, writeProfile } from './fixtures.ts';

// The plan of a real desired-state directory against a real store: who gets a workspace, what
// is rebuilt, revoked and released, and that a plan whose marks match is empty.

const root = mkdtempSync(join(tmpdir(), 'paddock-plan-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dir: string;
let store: Store;
let counter = 0;

beforeEach(async () => {
  dir = join(root, `repo-${++counter}`);
  writeDesiredState(dir, [
    { groups: ['engineering'], profile: 'standard-local', blueprints: ['coding-agent', 'code-review'] },
    { users: ['erin@example.com'], profile: 'large-local', blueprints: ['docs-research'] },
  ]);
  store = await openStore({ url: `sqlite:${join(root, `store-${counter}.db`)}` });
  await store.createUser({ id: 'ada@example.com', displayName: 'Ada', groups: ['engineering'] });
  await store.createUser({ id: 'bob@example.com', displayName: 'Bob', groups: ['sales'] });
});

/** The blueprints the plan's release changes. */
function changedBundles(p: Plan): string[] {
  const release = p.steps.find((step) => step.kind === 'release');
  if (!release) return [];
  return [
    ...release.bundles.filter((bundle) => bundle.changed).map((bundle) => bundle.blueprint),
    ...release.withdrawn.map((name) => `-${name}`),
  ];
}

async function plan(): Promise<Plan> {
  return (await planSource(await directorySource(dir), store)).plan;
}

/** Marks every step of `p` done as apply would, without a provider (plan-level test). */
async function markApplied(p: Plan): Promise<void> {
  const record = await store.beginReconcileApply({
    id: `ap-${counter}-${Math.random()}`,
    commit: p.commit,
    plan: p as never,
    approvedBy: 'test@example.com',
  });
  for (const [index, step] of p.steps.entries()) {
    if (step.kind === 'create') {
      if (!(await store.getUser(step.owner)))
        await store.createUser({ id: step.owner, displayName: step.owner });
      await store.createWorkspace({
        id: step.workspace,
        owner: step.owner,
        profile: step.profile,
        provider: step.provider,
        state: 'created',
      });
    }
    if (step.kind === 'revoke') {
      const ws = (await store.getWorkspace(step.workspace))!;
      await store.transitionWorkspace(ws.id, ws.state, 'revoked', ws.stateVersion);
    }
    const marks =
      step.kind === 'release'
        ? [
            ...step.bundles.map((bundle) => ({
              kind: 'bundle' as const,
              name: bundle.blueprint,
              hash: bundle.contentDigest,
              detail: '',
              commit: p.commit,
            })),
            ...step.withdrawn.map((name) => ({
              kind: 'bundle' as const,
              name,
              hash: WITHDRAWN,
              detail: '',
              commit: p.commit,
            })),
          ]
        : step.kind === 'revoke'
          ? []
          : [
              {
                kind: 'workspace' as const,
                name: step.workspace,
                hash: step.profileDigest,
                detail: step.image,
                commit: p.commit,
              },
            ];
    await store.completeReconcileStep(record.id, index, marks);
  }
  await store.finishReconcileApply(record.id);
}

describe('reconciler plan', () => {
  it('creates a workspace for each assigned user (by group and by e-mail) and releases every blueprint', async () => {
    const p = await plan();
    const creates = p.steps.filter((step) => step.kind === 'create');
    assert.deepEqual(
      creates.map((step) => [step.owner, step.profile, step.workspace]),
      [
        ['ada@example.com', 'standard-local', workspaceIdFor('ada@example.com', 'standard-local')],
        ['erin@example.com', 'large-local', workspaceIdFor('erin@example.com', 'large-local')],
      ],
    );
    assert.deepEqual(changedBundles(p), [
      'code-review',
      'coding-agent',
      'coding-base',
      'data-analysis',
      'docs-research',
      'ticket-triage',
    ]);
    assert.deepEqual(
      p.users.map((user) => user.id),
      ['ada@example.com', 'erin@example.com'],
    );
    assert.equal(p.summary.users, 2);
    assert.match(p.commit, /^sha256:[0-9a-f]{64}$/);
    await store.close();
  });

  it('creates no workspace whose provider this control plane does not run (paddock up: local only)', async () => {
    const profile = join(dir, 'profiles', 'large-local.yaml');
    writeFileSync(
      profile,
      readFileSync(profile, 'utf8').replace(
        '  provider: local\n',
        `  provider: kubevirt\n  image: registry.example.com/ws@sha256:${'a'.repeat(64)}\n`,
      ),
    );
    const p = (await planSource(await directorySource(dir), store, { providers: new Set(['local']) })).plan;
    assert.deepEqual(
      p.steps.filter((step) => step.kind === 'create').map((step) => step.owner),
      ['ada@example.com'],
    );
    assert.deepEqual(p.users.find((user) => user.id === 'erin@example.com')?.changes, [
      'not created: profile large-local needs provider kubevirt, not run here',
    ]);
    // Without the filter (`paddock apply`), erin's workspace is planned.
    assert.ok(
      (await plan()).steps.some((step) => step.kind === 'create' && step.owner === 'erin@example.com'),
    );
    await store.close();
  });

  it('is empty once applied, and stays empty for a reformatted file', async () => {
    await markApplied(await plan());
    assert.deepEqual((await plan()).steps, []);
    // Comments and formatting are not content.
    appendFileSync(join(dir, 'blueprints', 'code-review.yaml'), '\n# a comment\n');
    assert.deepEqual((await plan()).steps, []);
    await store.close();
  });

  it('rebuilds on a changed profile, releases only the blueprint whose content changed', async () => {
    await markApplied(await plan());
    writeProfile(dir, 'large-local', 16384);
    const triage = join(dir, 'blueprints', 'ticket-triage.yaml');
    writeFileSync(
      triage,
      readFileSync(triage, 'utf8').replace('goal: Triage new tickets', 'goal: Triage all tickets'),
    );
    const p = await plan();
    const rebuild = p.steps.find((step) => step.kind === 'rebuild');
    assert.deepEqual(rebuild && [rebuild.workspace, rebuild.reason], [
      workspaceIdFor('erin@example.com', 'large-local'),
      'profile changed',
    ]);
    assert.deepEqual(changedBundles(p), ['ticket-triage']);
    assert.equal(p.summary.create + p.summary.revoke, 0);
    await markApplied(p);
    // policies/*.cedar go into every bundle: a changed file releases them all.
    appendFileSync(join(dir, 'policies', 'no-force-push.cedar'), '\n// edited\n');
    assert.equal((await plan()).summary.release, 6);
    await store.close();
  });

  it('revokes the workspaces of users unassigned, disabled, or moved to another profile', async () => {
    await markApplied(await plan());
    await store.updateUser('ada@example.com', { disabled: true });
    writeAssignments(dir, [
      { groups: ['engineering'], profile: 'standard-local', blueprints: ['coding-agent', 'code-review'] },
      { users: ['erin@example.com'], profile: 'standard-local', blueprints: ['docs-research'] },
    ]);
    const p = await plan();
    assert.deepEqual(
      p.steps.map((step) => [
        step.kind,
        'owner' in step ? step.owner : '',
        'reason' in step ? step.reason : '',
      ]),
      [
        ['revoke', 'erin@example.com', 'profile changed from large-local to standard-local'],
        ['revoke', 'ada@example.com', 'user disabled'],
        ['create', 'erin@example.com', ''],
      ],
    );
    await markApplied(p);
    // Ada re-enabled: a new workspace, not the revoked one back.
    await store.updateUser('ada@example.com', { disabled: false });
    const again = await plan();
    assert.equal(again.steps.length, 1);
    const create = again.steps[0]!;
    assert.equal(create.kind, 'create');
    assert.notEqual(
      create.kind === 'create' && create.workspace,
      workspaceIdFor('ada@example.com', 'standard-local'),
    );
    await store.close();
  });

  it('adopts a workspace the reconciler did not create instead of rebuilding it', async () => {
    await store.createWorkspace({
      id: 'ws-ada',
      owner: 'ada@example.com',
      profile: 'standard-local',
      provider: 'local',
      state: 'created',
    });
    const p = await plan();
    assert.deepEqual(
      p.steps
        .filter((step) => step.kind !== 'release')
        .map((step) => [step.kind, 'workspace' in step && step.workspace]),
      [
        ['create', workspaceIdFor('erin@example.com', 'large-local')],
        ['adopt', 'ws-ada'],
      ],
    );
    await store.close();
  });
  it('releases the whole set once when one blueprint changes, and withdraws a removed one', async () => {
    await markApplied(await plan());
    const triage = join(dir, 'blueprints', 'ticket-triage.yaml');
    writeFileSync(triage, readFileSync(triage, 'utf8').replace('version: 2.0.0', 'version: 2.0.1'));
    let p = await plan();
    const release = p.steps.filter((step) => step.kind === 'release');
    assert.equal(release.length, 1);
    assert.equal(release[0]!.kind === 'release' && release[0]!.bundles.length, 6);
    assert.deepEqual(changedBundles(p), ['ticket-triage']);
    await markApplied(p);
    rmSync(triage);
    writeAssignments(dir, [
      { groups: ['engineering'], profile: 'standard-local', blueprints: ['coding-agent', 'code-review'] },
      { users: ['erin@example.com'], profile: 'large-local', blueprints: ['docs-research'] },
    ]);
    p = await plan();
    assert.deepEqual(changedBundles(p), ['-ticket-triage']);
    assert.equal(p.summary.release, 1);
    await markApplied(p);
    assert.deepEqual((await plan()).steps, []);
    await store.close();
  });
});
