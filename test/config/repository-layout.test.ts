import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanRepository } from '../../src/config/repository-layout.ts';
import { isPaddockError } from '../../src/core/errors.ts';
import { PLATFORM, VALID_REPO, writeRepo } from './temp-repo.ts';

describe('scanRepository', () => {
  it('lists each file with the kind its place calls for, sorted, and the Cedar policies', async () => {
    const root = writeRepo({
      ...VALID_REPO,
      'blueprints/a.yml': 'x',
      'blueprints/README.md': 'notes',
      'blueprints/.x.yaml': 'x',
    });
    const layout = await scanRepository(root);
    assert.deepEqual(layout.problems, []);
    assert.deepEqual(
      layout.documents.map((d) => `${d.spec.kind} ${d.file}`),
      [
        'Platform paddock.yaml',
        'Blueprint blueprints/a.yml',
        'Blueprint blueprints/code-review.yaml',
        'Profile profiles/standard.yaml',
        'Service services/github.yaml',
        'Assignments assignments.yaml',
      ],
    );
    assert.deepEqual(layout.policies, ['policies/extra.cedar']);
  });

  it('throws PDK_CONFIG_NOT_FOUND naming a missing directory', async () => {
    const missing = join(writeRepo({}), 'nope');
    await assert.rejects(scanRepository(missing), (error) => {
      assert.ok(isPaddockError(error, 'PDK_CONFIG_NOT_FOUND'));
      assert.equal(error.message, `desired-state directory not found: ${missing}`);
      return true;
    });
  });

  it('throws PDK_CONFIG_NOT_FOUND for a file given as the directory', async () => {
    const file = join(writeRepo({ 'paddock.yaml': PLATFORM }), 'paddock.yaml');
    await assert.rejects(scanRepository(file), {
      code: 'PDK_CONFIG_NOT_FOUND',
      message: `desired-state path is not a directory: ${file}`,
    });
  });

  it('reports a missing paddock.yaml as a problem, not a crash', async () => {
    const layout = await scanRepository(writeRepo({ 'profiles/a.yaml': 'x' }));
    assert.deepEqual(layout.problems, [
      {
        file: 'paddock.yaml',
        line: 1,
        column: 1,
        path: '',
        message: 'file not found: a desired-state directory needs paddock.yaml (kind: Platform) at its root',
      },
    ]);
  });

  it('accepts paddock.yml, and reports both extensions side by side', async () => {
    const yml = await scanRepository(writeRepo({ 'paddock.yml': PLATFORM }));
    assert.deepEqual(yml.problems, []);
    assert.deepEqual(
      yml.documents.map((d) => d.file),
      ['paddock.yml'],
    );
    const both = await scanRepository(writeRepo({ 'paddock.yaml': PLATFORM, 'paddock.yml': PLATFORM }));
    assert.deepEqual(
      both.problems.map((p) => `${p.file}: ${p.message}`),
      ['paddock.yml: both paddock.yaml and paddock.yml exist; keep only paddock.yaml'],
    );
  });

  it('reports subfolders, symlinked folders and misspelt folders and files that would be ignored', async () => {
    const root = writeRepo({
      'paddock.yaml': PLATFORM,
      'blueprints/team-a/x.yaml': 'x',
      'blueprint/y.yaml': 'y',
      'assignment.yaml': 'z',
      'README.md': '',
    });
    mkdirSync(join(root, 'elsewhere'));
    symlinkSync(join(root, 'elsewhere'), join(root, 'profiles'));
    const layout = await scanRepository(root);
    assert.deepEqual(layout.problems.map((p) => `${p.file}: ${p.message}`).sort(), [
      'assignment.yaml: is not part of the layout and is not read; did you mean "assignments.yaml"?',
      'blueprint/: is not part of the layout and is not read; did you mean "blueprints/"?',
      'blueprints/team-a/: subfolders of blueprints/ are not read; move its files up into blueprints/',
      'profiles/: is a symbolic link; Paddock reads only folders inside this repository',
    ]);
  });
});
