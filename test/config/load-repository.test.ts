import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadRepository } from '../../src/config/load-repository.ts';
import type { ConfigProblem } from '../../src/config/repository.ts';
import { BLUEPRINT, billionLaughs, PLATFORM, PROFILE, SERVICE, VALID_REPO, writeRepo } from './temp-repo.ts';

const lines = (problems: ConfigProblem[]) =>
  problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`);

describe('loadRepository', () => {
  it('loads a clean repository into the desired state', async () => {
    const root = writeRepo(VALID_REPO);
    const { state, problems } = await loadRepository(root);
    assert.deepEqual(problems, []);
    assert.equal(state.root, root);
    assert.equal(state.platform?.value.metadata.name, 'test');
    assert.deepEqual([...state.blueprints.keys()], ['code-review']);
    assert.deepEqual([...state.profiles.keys()], ['standard']);
    assert.deepEqual([...state.services.keys()], ['github']);
    assert.equal(state.assignments?.file, 'assignments.yaml');
    assert.deepEqual(
      [...state.policies],
      [['policies/extra.cedar', 'forbid (principal, action, resource);\n']],
    );
    assert.deepEqual(state.blueprints.get('code-review')!.locate(['metadata', 'owner']), {
      file: 'blueprints/code-review.yaml',
      line: 6,
      column: 10,
    });
  });

  it('reads .yml files like .yaml files', async () => {
    const { state, problems } = await loadRepository(
      writeRepo({
        'paddock.yml': PLATFORM,
        'profiles/standard.yml': PROFILE,
        'assignments.yml': VALID_REPO['assignments.yaml']!,
      }),
    );
    assert.deepEqual(problems, []);
    assert.equal(state.profiles.get('standard')?.file, 'profiles/standard.yml');
    assert.equal(state.assignments?.file, 'assignments.yml');
  });

  it('reports every problem of every file, sorted by file and line, and keeps the valid files', async () => {
    const root = writeRepo({
      'paddock.yaml': PLATFORM.replace('provider: embedded', 'provider: embeded'),
      'blueprints/code-review.yaml': BLUEPRINT.replace('  owner:', '  ownr:'),
      'blueprints/lol.yaml': billionLaughs(),
      'blueprints/profile.yaml': PROFILE,
      'profiles/standard.yaml': PROFILE,
      'profiles/big.yaml': `# padding\n${'#'.repeat(2 * 1024 * 1024)}\n`,
      'services/github.yaml': SERVICE.replace('ports: [443]', 'ports: [443, "abc"]'),
      'services/dup.yaml': 'a: 1\na: 2\n',
      'services/logo.yaml': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00]),
      'policies/latin1.cedar': new Uint8Array([0x2f, 0x2f, 0x20, 0xe9]),
    });
    const started = performance.now();
    const { state, problems } = await loadRepository(root);
    assert.ok(performance.now() - started < 5000, 'loading took too long');
    assert.deepEqual(lines(problems), [
      'blueprints/code-review.yaml:3:1 metadata.owner: is required',
      'blueprints/code-review.yaml:6:3 metadata.ownr: unknown field "ownr"; did you mean "owner"?',
      'blueprints/lol.yaml:1:5 : YAML anchors (&name) and aliases (*name) are not allowed: write each value out in full',
      'blueprints/profile.yaml:2:7 kind: a Profile does not belong in blueprints/, which holds kind Blueprint; move the file to profiles/ or change its kind',
      'paddock.yaml:7:15 spec.identity.provider: must be one of "oidc", "embedded", got string "embeded"; did you mean "embedded"?',
      'policies/latin1.cedar:1:4 : is not valid UTF-8 (byte 0xe9); save the file as UTF-8',
      `profiles/big.yaml:1:1 : file is too large (${2 * 1024 * 1024 + 11} bytes); desired-state files are limited to 1048576 bytes (1 MiB): split it or remove content`,
      'services/dup.yaml:2:1 : duplicate key "a" (first at line 1); remove one of them',
      'services/github.yaml:7:16 spec.ports[1]: must be a number, got string "abc"',
      'services/logo.yaml:1:5 : is a binary file (it contains a NUL byte); desired-state files are UTF-8 text',
    ]);
    assert.equal(state.platform, undefined);
    assert.deepEqual([...state.blueprints.keys()], []);
    assert.deepEqual([...state.profiles.keys()], ['standard']);
    assert.deepEqual([...state.services.keys()], []);
    assert.equal(state.policies.size, 0);
  });

  it('reports a duplicate metadata.name at the second file, naming the first', async () => {
    const { state, problems } = await loadRepository(
      writeRepo({ 'paddock.yaml': PLATFORM, 'services/a.yaml': SERVICE, 'services/b.yaml': SERVICE }),
    );
    assert.deepEqual(lines(problems), [
      'services/b.yaml:4:9 metadata.name: duplicate service name "github": services/a.yaml:4:9 already defines it; rename one of them',
    ]);
    assert.equal(state.services.get('github')?.file, 'services/a.yaml');
  });

  it('does not require file names to match metadata.name', async () => {
    const { state, problems } = await loadRepository(
      writeRepo({ 'paddock.yaml': PLATFORM, 'services/gh.yaml': SERVICE }),
    );
    assert.deepEqual(problems, []);
    assert.equal(state.services.get('github')?.file, 'services/gh.yaml');
  });

  it('loads more files than it reads at once, keeping each one with its own problems', async () => {
    const files: Record<string, string> = { 'paddock.yaml': PLATFORM };
    for (let i = 0; i < 40; i++)
      files[`services/s${String(i).padStart(2, '0')}.yaml`] = SERVICE.replace('name: github', `name: s${i}`);
    files['services/s39.yaml'] = files['services/s39.yaml']!.replace('ports: [443]', 'ports: [0]');
    const { state, problems } = await loadRepository(writeRepo(files));
    assert.equal(state.services.size, 39);
    assert.deepEqual(lines(problems), [
      'services/s39.yaml:7:11 spec.ports[0]: must be at least 1, got number 0',
    ]);
  });

  it('caps the problems of one file and says how many were left out', async () => {
    const keys = Array.from({ length: 80 }, (_, i) => `  extra${i}: 1`).join('\n');
    const { problems } = await loadRepository(writeRepo({ 'paddock.yaml': `${PLATFORM}${keys}\n` }));
    assert.equal(problems.length, 51);
    assert.equal(problems[50]!.message, '30 more problems in this file not shown; fix the ones above first');
  });
});
