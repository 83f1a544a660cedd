import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { openStore, type Store } from '../../../src/controlplane/index.ts';
import { workspaceIdFor } from '../../../src/controlplane/reconciler/index.ts';
import {
  type AssignmentSpec,
  commitAndPush,
  initGitRepository,
  writeAssignments,
  writeProfile,
} from './fixtures.ts';

// `paddock apply` as a real process against a real Git repository served over file://: it
// applies, a second apply does nothing, a kill -9 between steps is resumed by the next run
// without repeating what was done, releases are audited with the commit and the approver, and
// a broken commit is never applied.

const PADDOCK = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'paddock-apply-'));
// The local provider needs the data directory's parents traversable (sandboxes reach workspaces).
chmodSync(root, 0o711);
after(() => rmSync(root, { recursive: true, force: true }));

const USERS = Array.from({ length: 8 }, (_, i) => `user${i}@example.com`);
const BLUEPRINTS = [
  'code-review',
  'coding-agent',
  'coding-base',
  'data-analysis',
  'docs-research',
  'ticket-triage',
];

function paddock(args: string[]): ChildProcess {
  return spawn(process.execPath, [PADDOCK, ...args], {
    env: { ...process.env, PADDOCK_LOG: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = paddock(args);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

/** Starts an apply and SIGKILLs it as soon as it reports `steps` steps done. */
async function killAfterSteps(args: string[], steps: number): Promise<string> {
  const child = paddock(args);
  let stdout = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      if ((stdout.match(/✓ \[/g) ?? []).length >= steps) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('close', () => reject(new Error(`apply finished before it was killed:\n${stdout}`)));
  });
  await new Promise((resolve) => child.on('close', resolve));
  assert.equal(child.signalCode, 'SIGKILL');
  return stdout;
}

/** The parts of the audited events these tests read. */
interface AuditedEvent {
  readonly device: { readonly uid: string };
  readonly actor: { readonly user: { readonly uid: string } };
  readonly unmapped: {
    readonly paddock: {
      readonly blueprint: { readonly name: string };
      readonly commit: string;
      readonly approved_by: string;
    };
  };
}

async function events(store: Store, eventCode: string): Promise<AuditedEvent[]> {
  return (await store.searchAuditLog({ eventCode, limit: 10_000 })).map((entry) =>
    JSON.parse(entry.eventJson),
  );
}

async function withStore<T>(work: (store: Store) => Promise<T>, dataDir: string): Promise<T> {
  const store = await openStore({ url: `sqlite:${join(dataDir, 'controlplane.db')}` });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

describe('paddock apply (real git repository, real process)', () => {
  const bare = join(root, 'desired.git');
  const work = join(root, 'work');
  const dataDir = join(root, 'data');
  const assignments: AssignmentSpec[] = [
    { users: USERS, profile: 'standard-local', blueprints: ['coding-agent'] },
  ];
  const first = initGitRepository(bare, work, assignments);
  const args = ['apply', '--repo', `file://${bare}`, '--ref', 'main', '--data-dir', dataDir];

  it('resumes after a kill -9 between steps and finishes what was planned, each step once', async () => {
    // After the release and three creates: the kill lands among the creates.
    const killedOutput = await killAfterSteps(args, 4);
    assert.match(killedOutput, /plan for [0-9a-f]{40} \(Alice Admin <alice@example.com>\)/);
    let store = await openStore({ url: `sqlite:${join(dataDir, 'controlplane.db')}` });
    const open = await store.openReconcileApply();
    assert.ok(open, 'the killed apply is open in the store');
    assert.equal(open.commit, first);
    assert.ok(open.doneSteps.length >= 4 && open.doneSteps.length < 9, `done: ${open.doneSteps}`);
    await store.close();

    const resumed = await run(args);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`resumed apply ${open.id} of ${first}`));
    assert.match(resumed.stdout, /nothing to do/);
    // Steps done before the kill are not run again.
    assert.equal((resumed.stdout.match(/✓ \[|· \[/g) ?? []).length, 9 - open.doneSteps.length);

    store = await openStore({ url: `sqlite:${join(dataDir, 'controlplane.db')}` });
    try {
      assert.equal(await store.openReconcileApply(), undefined);
      const workspaces = await store.listWorkspaces();
      assert.deepEqual(
        workspaces.map((ws) => ws.id).sort(),
        USERS.map((user) => workspaceIdFor(user, 'standard-local')).sort(),
      );
      for (const ws of workspaces)
        assert.ok(existsSync(join(dataDir, 'workspaces', ws.id)), `${ws.id} provisioned`);
      // Each workspace was created exactly once (a resumed create re-provisions, never re-creates).
      const created = (await events(store, 'workspace.created')).map((event) => event.device.uid).sort();
      assert.deepEqual(created, workspaces.map((ws) => ws.id).sort());
      // Every blueprint released and audited with the commit and who approved it.
      const released = await events(store, 'policy.released');
      assert.deepEqual(
        [...new Set(released.map((event) => event.unmapped.paddock.blueprint.name))].sort(),
        BLUEPRINTS,
      );
      for (const event of released) {
        assert.equal(event.unmapped.paddock.commit, first);
        assert.equal(event.unmapped.paddock.approved_by, 'Alice Admin <alice@example.com>');
        assert.equal(event.actor.user.uid, 'Alice Admin <alice@example.com>');
      }
      const marks = await store.listReconcileMarks();
      assert.equal(marks.filter((mark) => mark.kind === 'bundle').length, BLUEPRINTS.length);
      assert.equal(marks.filter((mark) => mark.kind === 'workspace').length, USERS.length);
    } finally {
      await store.close();
    }
  });

  it('does nothing when the same commit is applied again', async () => {
    const again = await run(args);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`${first}: nothing to do`));
    const store = await openStore({ url: `sqlite:${join(dataDir, 'controlplane.db')}` });
    try {
      assert.equal((await events(store, 'workspace.created')).length, USERS.length);
    } finally {
      await store.close();
    }
  });

  it('never applies an invalid commit', async () => {
    writeFileSync(join(work, 'assignments.yaml'), 'apiVersion: paddock.dev/v1\nkind: Assignments\nspec: [\n');
    commitAndPush(work, bare, 'broken');
    const broken = await run(args);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /PDK_CONFIG_INVALID/);
    const store = await openStore({ url: `sqlite:${join(dataDir, 'controlplane.db')}` });
    try {
      assert.equal((await store.listWorkspaces()).filter((ws) => ws.state === 'revoked').length, 0);
      assert.equal(await store.openReconcileApply(), undefined);
    } finally {
      await store.close();
    }
  });

  it('revokes an unassigned user, rebuilds on a profile change, with --approved-by as the approver', async () => {
    writeAssignments(work, [
      { users: USERS.slice(1), profile: 'standard-local', blueprints: ['coding-agent'] },
    ]);
    writeProfile(work, 'standard-local', 2048);
    const next = commitAndPush(work, bare, 'unassign user0, smaller workspaces');
    const plan = await run([
      'plan',
      '--repo',
      `file://${bare}`,
      '--ref',
      'main',
      '--data-dir',
      dataDir,
      '--json',
    ]);
    assert.equal(plan.code, 0, plan.stderr);
    const planned = JSON.parse(plan.stdout);
    assert.equal(planned.commit, next);
    assert.deepEqual(
      { ...planned.plan.summary },
      { create: 0, rebuild: USERS.length - 1, revoke: 1, adopt: 0, release: 0, users: USERS.length },
    );
    // The kill -9 test may have left rebuilds of its own (a create resumed after the kill
    // re-provisions): count only what this apply does.
    const rebuiltBefore = await withStore((store) => events(store, 'workspace.rebuilt'), dataDir);
    const applied = await run([...args, '--approved-by', 'carol@example.com']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /approved by carol@example.com: 8 step\(s\)/);
    const store = await openStore({ url: `sqlite:${join(dataDir, 'controlplane.db')}` });
    try {
      const revoked = await store.getWorkspace(workspaceIdFor(USERS[0]!, 'standard-local'));
      assert.equal(revoked?.state, 'revoked');
      const rebuilt = (await events(store, 'workspace.rebuilt')).slice(rebuiltBefore.length);
      assert.equal(rebuilt.length, USERS.length - 1);
      assert.ok(rebuilt.every((event) => event.actor.user.uid === 'carol@example.com'));
      assert.equal((await store.lastReconcileApply())?.commit, next);
    } finally {
      await store.close();
    }
    const quiet = await run(args);
    assert.match(quiet.stdout, /nothing to do/);
  });
  it('--watch applies each new commit as it is pushed, and stops on SIGTERM', async () => {
    const child = paddock([...args, '--watch', '--interval', '1']);
    let stdout = '';
    const waitFor = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout)) {
            child.stdout!.off('data', check);
            resolve();
          }
        };
        child.stdout!.on('data', (chunk) => {
          stdout += chunk;
          check();
        });
        child.once('close', () => reject(new Error(`apply --watch exited:\n${stdout}`)));
        check();
      });
    await waitFor(/nothing to do/);
    writeAssignments(work, [{ users: USERS, profile: 'standard-local', blueprints: ['coding-agent'] }]);
    const next = commitAndPush(work, bare, 'assign user0 again');
    await waitFor(new RegExp(`applied ap-[0-9a-f]+ of ${next}`));
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    const store = await openStore({ url: `sqlite:${join(dataDir, 'controlplane.db')}` });
    try {
      const active = (await store.listWorkspaces({ owner: USERS[0]! })).filter(
        (ws) => ws.state !== 'revoked',
      );
      assert.equal(active.length, 1, 'user0 has a new workspace');
    } finally {
      await store.close();
    }
  });
});
