import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { directorySource, fetchRepository } from '../../../src/controlplane/reconciler/index.ts';
import { commitAndPush, git, initGitRepository, writeAssignments } from './fixtures.ts';

// Fetching the desired state: a real bare repository over file://, refs and commits, and the
// transports and arguments the reconciler refuses to hand to git.

const root = mkdtempSync(join(tmpdir(), 'paddock-source-'));
after(() => rmSync(root, { recursive: true, force: true }));
const bare = join(root, 'desired.git');
const work = join(root, 'work');
const assignments = [{ groups: ['engineering'], profile: 'standard-local', blueprints: ['coding-agent'] }];
const first = initGitRepository(bare, work, assignments);

describe('desired-state source', () => {
  it('checks out the ref asked for, and follows the branch as it moves', async () => {
    const cache = join(root, 'cache');
    const atMain = await fetchRepository(`file://${bare}`, 'main', cache);
    assert.equal(atMain.commit, first);
    assert.equal(atMain.author, 'Alice Admin <alice@example.com>');
    writeAssignments(work, [{ groups: ['data'], profile: 'standard-local', blueprints: ['data-analysis'] }]);
    const second = commitAndPush(work, bare, 'second');
    assert.equal((await fetchRepository(`file://${bare}`, 'main', cache)).commit, second);
    // An older commit by id, checked out exactly (no file of the newer one left behind).
    const old = await fetchRepository(`file://${bare}`, first, cache);
    assert.equal(old.commit, first);
    assert.equal(git(old.dir, 'status', '--porcelain'), '');
    await assert.rejects(fetchRepository(`file://${bare}`, 'no-such-branch', cache), {
      code: 'PDK_RECONCILE_SOURCE',
    });
  });

  it('refuses the ext:: transport (it runs a command) and arguments git would read as options', async () => {
    const marker = join(root, 'pwned');
    await assert.rejects(fetchRepository(`ext::sh -c touch% ${marker}`, 'main', join(root, 'cache-ext')), {
      code: 'PDK_RECONCILE_SOURCE',
    });
    assert.equal(existsSync(marker), false);
    await assert.rejects(
      fetchRepository(`--upload-pack=touch ${join(root, 'opt-pwned')}`, 'main', join(root, 'cache-opt')),
      {
        code: 'PDK_RECONCILE_SOURCE',
      },
    );
    await assert.rejects(fetchRepository(`file://${bare}`, '--upload-pack=touch', join(root, 'cache-opt')), {
      code: 'PDK_RECONCILE_SOURCE',
    });
  });

  it('names a clean checkout by its commit and anything else by a digest of its files', async () => {
    assert.equal((await directorySource(work)).commit, git(work, 'rev-parse', 'HEAD'));
    writeAssignments(work, assignments);
    const dirty = await directorySource(work);
    assert.match(dirty.commit, /^sha256:[0-9a-f]{64}$/);
    assert.equal(dirty.author, undefined);
  });
});
