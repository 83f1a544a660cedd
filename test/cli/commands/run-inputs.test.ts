import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { loadRunBlueprint, profileLimits } from '../../../src/cli/commands/run-inputs.ts';
import { loadRepository } from '../../../src/config/index.ts';
import { writeRepo } from '../../config/temp-repo.ts';
import { makeWorkspace } from '../../support/sandbox-harness.ts';

// What `paddock run` takes from the desired state: the RESOLVED blueprint's waiver (inherited
// through `extends`, never widened by a child) and a profile's limits.

const blueprint = (name: string, spec: string, parent?: string) => `apiVersion: paddock.dev/v1
kind: Blueprint
metadata: { name: ${name}, version: 1.0.0, owner: a@example.com, incidentContact: s@example.com, reviewCadence: 90d }
${parent ? `extends: ${parent}\n` : ''}spec:
  goal: Runs.
${spec}`;

const profile = (name: string, limits: string) => `apiVersion: paddock.dev/v1
kind: Profile
metadata: { name: ${name} }
spec:
  provider: local
  size: { cpus: 2, memoryMiB: 3072 }
${limits}`;

const repo = writeRepo({
  'blueprints/weak-base.yaml': blueprint(
    'weak-base',
    '  dataScope: { read: [], write: [/workspace], deny: [] }\n  sandbox: { allowMissing: [landlock] }\n',
  ),
  'blueprints/weak-child.yaml': blueprint(
    'weak-child',
    '  dataScope: { read: [/workspace], write: [], deny: [] }\n',
    'weak-base',
  ),
  'blueprints/strict-child.yaml': blueprint('strict-child', '  sandbox: { allowMissing: [] }\n', 'weak-base'),
  'blueprints/strict-base.yaml': blueprint('strict-base', ''),
  'blueprints/sneaky-child.yaml': blueprint(
    'sneaky-child',
    '  sandbox: { allowMissing: [landlock] }\n',
    'strict-base',
  ),
  'child-file.yaml': blueprint(
    'from-file',
    '  dataScope: { read: [], write: [/workspace], deny: [] }\n',
    'weak-base',
  ),
  'profiles/small.yaml': profile('small', '  limits: { processes: 91, openFiles: 333, memoryMiB: 1111 }\n'),
  'profiles/sized.yaml': profile('sized', '  limits: { processes: 64 }\n'),
  'profiles/broken.yaml': profile('broken', '  limits: { processes: 2 }\n'),
});

describe('paddock run inputs: the weaker-mode waiver', () => {
  it("is the resolved blueprint's: a child that omits spec.sandbox inherits its parent's", async () => {
    const loaded = await loadRepository(repo);
    assert.deepEqual((await loadRunBlueprint('weak-child', loaded, repo)).waived, ['landlock']);
    assert.deepEqual((await loadRunBlueprint('weak-base', loaded, repo)).waived, ['landlock']);
    assert.deepEqual((await loadRunBlueprint('strict-child', loaded, repo)).waived, []);
  });

  it('is inherited by a blueprint FILE from its parent in the desired state', async () => {
    const loaded = await loadRepository(repo);
    const run = await loadRunBlueprint(join(repo, 'child-file.yaml'), loaded, repo);
    assert.deepEqual(run.waived, ['landlock']);
    assert.equal(run.file, join(repo, 'child-file.yaml'));
    assert.deepEqual(run.blueprint.spec.dataScope, { read: [], write: ['/workspace'], deny: [] });
  });

  it('refuses a child that adds a waiver its parent does not have', async () => {
    const loaded = await loadRepository(repo);
    await assert.rejects(loadRunBlueprint('sneaky-child', loaded, repo), {
      code: 'PDK_BLUEPRINT_WIDENS',
      message:
        'blueprint "sneaky-child" cannot be resolved: spec.sandbox.allowMissing widens parent "strict-base": adds "landlock" (the sandbox may start without that layer)',
    });
  });
});

describe('paddock run inputs: profile limits', () => {
  it('takes spec.limits, and memoryMiB from size.memoryMiB when the limits omit it', async () => {
    const loaded = await loadRepository(repo);
    assert.deepEqual(profileLimits(loaded, 'small'), { processes: 91, openFiles: 333, memoryMiB: 1111 });
    assert.deepEqual(profileLimits(loaded, 'sized'), { processes: 64, openFiles: 4096, memoryMiB: 3072 });
  });

  it('names an unknown profile and the known ones; sends an invalid one to validate', async () => {
    const loaded = await loadRepository(repo);
    assert.throws(() => profileLimits(loaded, 'huge'), {
      code: 'PDK_PROFILE_NOT_FOUND',
      message: 'profile "huge" not found (known: sized, small)',
    });
    assert.throws(() => profileLimits(loaded, 'broken'), {
      code: 'PDK_CONFIG_INVALID',
      message: `profile "broken" has problems in ${repo}; run \`paddock validate\` there for the list`,
    });
  });
});

describe('paddock run --profile (real sandbox)', () => {
  const PADDOCK = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));
  const limitsInside = async (extra: string[]) => {
    const workspace = makeWorkspace('pdk-run-profile-');
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [
        PADDOCK,
        'run',
        ...['--blueprint', 'weak-child', '--config', repo, '--workdir', workspace.dir, ...extra],
        '--',
        ...['bash', '-c', 'ulimit -Hu; ulimit -Sn; ulimit -Hn; ulimit -Sd; ulimit -Hd'],
      ]);
      return stdout.trim().split('\n');
    } finally {
      workspace.remove();
    }
  };

  it("puts the profile's limits in force inside: processes, open files, data memory (KiB)", async () => {
    assert.deepEqual(await limitsInside(['--profile', 'small']), ['91', '333', '333', '1137664', '1137664']);
    assert.deepEqual(await limitsInside(['-p', 'sized']), ['64', '4096', '4096', '3145728', '3145728']);
  });

  it('uses the standalone defaults without --profile', async () => {
    assert.deepEqual(await limitsInside([]), ['512', '4096', '4096', '4194304', '4194304']);
  });
});
