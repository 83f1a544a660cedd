import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_GIT_SCAN_LIMITS, scanGitRepositories } from '../../src/supervisor/sandbox/git-scan.ts';

// The bounded search for git repositories beneath a writable scope (issue 3, nested
// checkouts): what it finds, what it never enters, and how it stops.

const root = mkdtempSync(join(tmpdir(), 'pdk-git-scan-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Creates `files` (relative path -> content; a trailing "/" makes a directory) under a fresh dir. */
function tree(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [path, content] of Object.entries(files)) {
    if (path.endsWith('/')) mkdirSync(join(dir, path), { recursive: true });
    else {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
  }
  return dir;
}

const gitDir = (at: string) => ({ [`${at}/HEAD`]: 'ref: refs/heads/main\n', [`${at}/hooks/`]: '' });

describe('scanGitRepositories', () => {
  it('finds nested .git directories, worktree pointers and submodule git directories', () => {
    const dir = tree('nested', {
      ...gitDir('.git'),
      ...gitDir('.git/modules/sub'),
      ...gitDir('.git/modules/sub/modules/inner'),
      ...gitDir('vendor/lib/.git'),
      ...gitDir('node_modules/dep/.git'),
      'sub/.git': 'gitdir: ../.git/modules/sub\n',
      'src/index.js': '',
    });
    const scan = scanGitRepositories(dir);
    assert.deepEqual(scan.dotGitDirs.sort(), [
      join(dir, '.git'),
      join(dir, 'node_modules/dep/.git'),
      join(dir, 'vendor/lib/.git'),
    ]);
    assert.deepEqual(scan.moduleGitDirs.sort(), [
      join(dir, '.git/modules/sub'),
      join(dir, '.git/modules/sub/modules/inner'),
    ]);
    assert.deepEqual(scan.pointerFiles, [join(dir, 'sub/.git')]);
    assert.equal(scan.exhausted, undefined);
  });

  it('never follows a symlink, reports one named .git, and skips the directories it is told to', () => {
    const outside = tree('outside', gitDir('repo/.git'));
    const dir = tree('links', { ...gitDir('other-scope/x/.git'), 'a/': '' });
    symlinkSync(outside, join(dir, 'a', 'link'));
    symlinkSync(join(outside, 'repo', '.git'), join(dir, '.git'));
    const scan = scanGitRepositories(dir, { skip: [join(dir, 'other-scope')] });
    assert.deepEqual(scan.dotGitDirs, []);
    assert.deepEqual(scan.symlinks, [join(dir, '.git')]);
  });

  it('stops at each bound and says which and where', () => {
    const deep = tree('deep', { 'a/b/c/d/e/f': '' });
    const limits = { ...DEFAULT_GIT_SCAN_LIMITS, maxDepth: 3 };
    assert.deepEqual(scanGitRepositories(deep, { limits }).exhausted, {
      limit: 'maxDepth',
      value: 3,
      path: join(deep, 'a/b/c/d'),
    });
    const wide = tree('wide', Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, ''])));
    const budget = { ...DEFAULT_GIT_SCAN_LIMITS, maxEntries: 49 };
    assert.deepEqual(scanGitRepositories(wide, { limits: budget }).exhausted, {
      limit: 'maxEntries',
      value: 49,
      path: wide,
    });
    // The budget is shared by the scopes of one launch.
    assert.equal(
      scanGitRepositories(wide, { limits: { ...budget, maxEntries: 60 }, entriesSpent: 20 }).exhausted?.limit,
      'maxEntries',
    );
    const many = tree(
      'many',
      Object.assign({}, ...Array.from({ length: 4 }, (_, i) => gitDir(`r${i}/.git`))),
    );
    assert.equal(
      scanGitRepositories(many, { limits: { ...DEFAULT_GIT_SCAN_LIMITS, maxRepositories: 3 } }).exhausted
        ?.limit,
      'maxRepositories',
    );
    assert.equal(scanGitRepositories(many).dotGitDirs.length, 4);
  });

  it('re-reads only the directories whose inode or ctime changed since an earlier scan', async () => {
    const dir = tree('stamps', { 'a/b/c/file': '', 'd/file': '' });
    await new Promise((resolve) => setTimeout(resolve, 80)); // older than the 50 ms margin
    const first = scanGitRepositories(dir);
    assert.ok([...first.stamps.values()].every((stamp) => stamp.stable));
    mkdirSync(join(dir, 'a/b/c/.git/hooks'), { recursive: true }); // changes c's ctime only
    const second = scanGitRepositories(dir, { previous: first.stamps });
    assert.deepEqual(second.dotGitDirs, [join(dir, 'a/b/c/.git')]);
    assert.equal(second.stamps.get(join(dir, 'a'))!.stable, true);
    assert.equal(second.stamps.get(join(dir, 'a/b/c'))!.stable, false, 'just changed: read again next time');
    // An unchanged stable directory is replayed, not read: a doctored listing is believed...
    const doctored = new Map(second.stamps);
    doctored.set(join(dir, 'a'), { ...second.stamps.get(join(dir, 'a'))!, subdirs: [] });
    assert.deepEqual(scanGitRepositories(dir, { previous: doctored }).dotGitDirs, []);
    // ...unless it was recorded unstable, or the directory changed since.
    doctored.set(join(dir, 'a'), { ...second.stamps.get(join(dir, 'a'))!, subdirs: [], stable: false });
    assert.equal(scanGitRepositories(dir, { previous: doctored }).dotGitDirs.length, 1);
    doctored.set(join(dir, 'a'), { ...second.stamps.get(join(dir, 'a'))!, subdirs: [], ctimeNs: 1n });
    assert.equal(scanGitRepositories(dir, { previous: doctored }).dotGitDirs.length, 1);
  });

  it('does not read inside .git (objects hold no checkouts) and counts every entry it reads', () => {
    const dir = tree('counted', {
      ...gitDir('.git'),
      ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`.git/objects/${i}`, ''])),
      'a/one': '',
      'a/two': '',
    });
    // root: .git, a; a: one, two; .git/modules does not exist.
    assert.equal(scanGitRepositories(dir).entries, 4);
  });
});
