import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compileCommit } from '../../../src/controlplane/releases/index.ts';
import { parseReleaseBundle } from '../../../src/policy/index.ts';
import { commitAll, exampleRepository, git, tempDir } from '../../support/releases.ts';

// Issue 8, item 1: the desired-state repository at a commit → one reproducible bundle per blueprint.

const NODE = process.execPath;
const COMPILE = fileURLToPath(new URL('../../../src/controlplane/releases/index.ts', import.meta.url));

describe('compileCommit', () => {
  const temp = tempDir('paddock-compile-test-');
  let repo: { dir: string; commit: string };
  before(() => {
    repo = exampleRepository(temp.path);
  });
  after(() => temp.cleanup());

  it('compiles every blueprint of the commit, with its commit and the hashes of its source files', async () => {
    const { commit, bundles } = await compileCommit({ repoDir: repo.dir, commit: 'main' });
    assert.equal(commit, repo.commit);
    assert.deepEqual(
      bundles.map((bundle) => bundle.name),
      ['code-review', 'coding-agent', 'coding-base', 'data-analysis', 'docs-research', 'ticket-triage'],
    );
    const review = bundles.find((bundle) => bundle.name === 'code-review')!;
    assert.equal(review.bundle.source.commit, repo.commit);
    const paths = review.bundle.source.files.map((file) => file.path);
    assert.ok(paths.includes('blueprints/code-review.yaml'));
    assert.ok(paths.includes('blueprints/coding-base.yaml'), 'the parent it extends');
    assert.ok(paths.includes('policies/no-force-push.cedar'));
    for (const file of review.bundle.source.files) {
      const blob = execFileSync('git', ['-C', repo.dir, 'show', `${repo.commit}:${file.path}`]);
      assert.equal(file.sha256, createHash('sha256').update(blob).digest('hex'), file.path);
    }
    assert.deepEqual(parseReleaseBundle(review.bytes).id, review.bundle.id);
    assert.equal(review.sha256, createHash('sha256').update(review.bytes).digest('hex'));
  });

  it('gives byte-identical bundles when the same commit is compiled twice', async () => {
    const first = await compileCommit({ repoDir: repo.dir, commit: repo.commit });
    const second = await compileCommit({ repoDir: repo.dir, commit: repo.commit });
    assert.equal(first.bundles.length, second.bundles.length);
    for (const [index, bundle] of first.bundles.entries())
      assert.deepEqual(bundle.bytes, second.bundles[index]!.bytes);
  });

  it('gives byte-identical bundles in another process (another clock, another temp dir)', async () => {
    const here = await compileCommit({ repoDir: repo.dir, commit: repo.commit });
    const script = `const { compileCommit } = await import(${JSON.stringify(COMPILE)});
      const { bundles } = await compileCommit({ repoDir: ${JSON.stringify(repo.dir)}, commit: ${JSON.stringify(repo.commit)} });
      process.stdout.write(JSON.stringify(bundles.map((b) => [b.name, Buffer.from(b.bytes).toString('base64')])));`;
    const out = execFileSync(NODE, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'Pacific/Kiritimati', LANG: 'tr_TR.UTF-8' },
    });
    const there = JSON.parse(out) as [string, string][];
    assert.deepEqual(
      there,
      here.bundles.map((bundle) => [bundle.name, Buffer.from(bundle.bytes).toString('base64')]),
    );
  });

  it('reads the commit, never the working tree', async () => {
    const before = await compileCommit({ repoDir: repo.dir, commit: repo.commit });
    const file = join(repo.dir, 'blueprints', 'code-review.yaml');
    const original = readFileSync(file);
    appendFileSync(file, '\n# an uncommitted edit\n');
    writeFileSync(join(repo.dir, 'policies', 'uncommitted.cedar'), 'forbid (principal, action, resource);\n');
    try {
      const dirty = await compileCommit({ repoDir: repo.dir, commit: repo.commit });
      for (const [index, bundle] of before.bundles.entries())
        assert.deepEqual(dirty.bundles[index]!.bytes, bundle.bytes);
    } finally {
      writeFileSync(file, original);
      git(repo.dir, 'clean', '-fq', 'policies');
    }
  });

  it('a new commit that changes a policy changes that bundle', async () => {
    const dir = tempDir('paddock-compile-change-');
    try {
      const second = exampleRepository(dir.path);
      const file = join(second.dir, 'blueprints', 'code-review.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('"npm test"', '"npm test", "npm ci"'));
      const changed = commitAll(second.dir, 'allow npm ci');
      const [a, b] = await Promise.all([
        compileCommit({ repoDir: second.dir, commit: second.commit }),
        compileCommit({ repoDir: second.dir, commit: changed }),
      ]);
      const reviewA = a.bundles.find((bundle) => bundle.name === 'code-review')!;
      const reviewB = b.bundles.find((bundle) => bundle.name === 'code-review')!;
      assert.notEqual(reviewA.bundle.id, reviewB.bundle.id);
      assert.notEqual(reviewA.bundle.contentHash, reviewB.bundle.contentHash);
      // A blueprint the change does not touch decides the same (same id and content hash).
      const triageA = a.bundles.find((bundle) => bundle.name === 'ticket-triage')!;
      const triageB = b.bundles.find((bundle) => bundle.name === 'ticket-triage')!;
      assert.equal(triageA.bundle.contentHash, triageB.bundle.contentHash);
      assert.equal(triageB.bundle.source.commit, changed);
    } finally {
      dir.cleanup();
    }
  });

  it('refuses an unknown revision and one that git would read as an option', async () => {
    await assert.rejects(
      compileCommit({ repoDir: repo.dir, commit: 'no-such-branch' }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'PDK_RELEASE_COMPILE');
        assert.match(error.message, /^git rev-parse in .* failed: /);
        return true;
      },
    );
    await assert.rejects(compileCommit({ repoDir: repo.dir, commit: '--output=/tmp/x' }), {
      code: 'PDK_RELEASE_COMPILE',
      message: 'refusing revision "--output=/tmp/x": starts with "-"',
    });
  });

  it('refuses a commit whose desired state is invalid, naming the problems', async () => {
    const dir = tempDir('paddock-compile-invalid-');
    try {
      const broken = exampleRepository(dir.path);
      writeFileSync(
        join(broken.dir, 'blueprints', 'code-review.yaml'),
        'apiVersion: paddock.dev/v1\nkind: Blueprint\n',
      );
      const commit = commitAll(broken.dir, 'break it');
      await assert.rejects(
        compileCommit({ repoDir: broken.dir, commit }),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'PDK_CONFIG_INVALID');
          assert.match(error.message, /is invalid: \d+ problems? in \d+ files?/);
          return true;
        },
      );
    } finally {
      dir.cleanup();
    }
  });
});
