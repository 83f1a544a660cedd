import assert from 'node:assert/strict';
import { basename, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { ASSIGNMENTS, BLUEPRINT, VALID_REPO, writeRepo } from '../../config/temp-repo.ts';
import { runCli } from './run-cli.ts';

const run = runCli;

const BROKEN = {
  ...VALID_REPO,
  'blueprints/code-review.yaml': BLUEPRINT.replace('  owner:', '  ownr:'),
  'assignments.yaml': ASSIGNMENTS.replace('profile: standard', 'profile: standrd'),
};

describe('paddock validate', () => {
  it('prints a summary and exits 0 for a valid repository given as DIR', async () => {
    const root = writeRepo(VALID_REPO);
    const result = await run(['validate', root], writeRepo({}));
    assert.deepEqual(result, {
      code: 0,
      stdout: `${root}: valid (1 blueprint, 1 profile, 1 service, assignments for 1 user / 1 group)\n`,
      stderr: '',
    });
  });

  it('prefixes file names with DIR relative to the working directory, so editors can open them', async () => {
    const root = writeRepo(BROKEN);
    const result = await run(['validate', basename(root)], dirname(root));
    assert.equal(result.code, 1);
    assert.equal(
      result.stdout.split('\n')[1],
      `${basename(root)}/blueprints/code-review.yaml:3:1 metadata.owner: is required`,
    );
  });

  it('lists every problem as file:line:column field: message, then a count, and exits 1', async () => {
    const root = writeRepo(BROKEN);
    const result = await run(['validate', '.'], root);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, '');
    assert.equal(
      result.stdout,
      [
        'assignments.yaml:7:16 spec.assignments[0].profile: no profile is named "standrd" (metadata.name in profiles/); did you mean "standard"?',
        'blueprints/code-review.yaml:3:1 metadata.owner: is required',
        'blueprints/code-review.yaml:6:3 metadata.ownr: unknown field "ownr"; did you mean "owner"?',
        '3 problems in 2 files',
        '',
      ].join('\n'),
    );
  });

  it('takes the directory from --config, then $PADDOCK_CONFIG, then the working directory', async () => {
    const valid = writeRepo(VALID_REPO);
    const broken = writeRepo(BROKEN);
    assert.equal((await run(['validate', '--config', valid], broken)).code, 0);
    assert.equal((await run(['validate'], broken, { PADDOCK_CONFIG: valid })).code, 0);
    assert.equal((await run(['validate'], valid)).code, 0);
    assert.equal((await run(['validate'], broken)).code, 1);
    assert.equal((await run(['validate', broken, '--config', valid], '/')).code, 1, 'DIR wins over --config');
  });

  it('prints JSON with --json', async () => {
    const root = writeRepo(BROKEN);
    const result = await run(['validate', '--json', root], '/');
    assert.equal(result.code, 1);
    const output = JSON.parse(result.stdout) as {
      ok: boolean;
      dir: string;
      problems: { file: string; path: string }[];
    };
    assert.equal(output.ok, false);
    assert.equal(output.dir, root);
    assert.deepEqual(
      output.problems.map((p) => `${p.file} ${p.path}`),
      [
        'assignments.yaml spec.assignments[0].profile',
        'blueprints/code-review.yaml metadata.owner',
        'blueprints/code-review.yaml metadata.ownr',
      ],
    );
    const valid = await run(['validate', '--json', writeRepo(VALID_REPO)], '/');
    assert.equal(valid.code, 0);
    assert.deepEqual(JSON.parse(valid.stdout).problems, []);
  });

  it('exits 1 with PDK_CONFIG_NOT_FOUND for a missing directory', async () => {
    const missing = join(writeRepo({}), 'nope');
    const result = await run(['validate', missing], '/');
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      new RegExp(`^error PDK_CONFIG_NOT_FOUND: desired-state directory not found: ${missing}\n`),
    );
  });

  it('exits 2 for more than one DIR', async () => {
    const result = await run(['validate', 'a', 'b'], '/');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error PDK_CLI_USAGE: paddock validate takes one DIR, got 2\n/);
  });

  it('has --help listing its options', async () => {
    const result = await run(['validate', '--help'], '/');
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^Usage: paddock validate \[DIR\]\n/);
    for (const option of ['--config DIR', '--json', '--help'])
      assert.ok(result.stdout.includes(option), option);
  });
});
