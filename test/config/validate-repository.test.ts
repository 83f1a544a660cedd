import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ConfigProblem } from '../../src/config/repository.ts';
import {
  countProblems,
  requireValidRepository,
  validateRepository,
} from '../../src/config/validate-repository.ts';
import { isPaddockError } from '../../src/core/errors.ts';
import { ASSIGNMENTS, BLUEPRINT, VALID_REPO, writeRepo } from './temp-repo.ts';

const lines = (problems: ConfigProblem[]) =>
  problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`);
const CHILD = BLUEPRINT.replace('name: code-review', 'name: child').replace(
  'spec:\n',
  'extends: code-review\nspec:\n',
);
const EXAMPLE = fileURLToPath(new URL('../../examples/platform', import.meta.url));

describe('validateRepository', () => {
  it('finds no problems in a clean repository', async () => {
    const { state, problems } = await validateRepository(writeRepo(VALID_REPO));
    assert.deepEqual(problems, []);
    assert.equal(state.blueprints.size, 1);
  });

  it('finds no problems in the shipped example repository', async () => {
    assert.deepEqual(lines((await validateRepository(EXAMPLE)).problems), []);
  });

  it('reports file, reference and effective-blueprint problems together, sorted', async () => {
    const { problems } = await validateRepository(
      writeRepo({
        ...VALID_REPO,
        'assignments.yaml': ASSIGNMENTS.replace('profile: standard', 'profile: large'),
        'blueprints/code-review.yaml': BLUEPRINT.replace('    - service: github', '    - service: gitlab'),
        'services/github.yaml':
          'apiVersion: paddock.dev/v1\nkind: Service\nmetadata: {name: github}\nspec: {hosts: [api.github.com], prots: 1}\n',
      }),
    );
    // services/github.yaml is broken, so the blueprint's reference to it is not reported a second time.
    assert.deepEqual(lines(problems), [
      'assignments.yaml:7:16 spec.assignments[0].profile: no profile is named "large" (metadata.name in profiles/)',
      'blueprints/code-review.yaml:14:16 spec.writes[0].service: blueprint "code-review" writes to service "gitlab", which is not in its spec.services; did you mean "github"?',
      'services/github.yaml:4:33 spec.prots: unknown field "prots"; did you mean "ports"?',
    ]);
  });

  it('reports an unknown parent once, with a suggestion', async () => {
    const { problems } = await validateRepository(
      writeRepo({
        ...VALID_REPO,
        'blueprints/child.yaml': CHILD.replace('extends: code-review', 'extends: code-reveiw'),
      }),
    );
    assert.deepEqual(lines(problems), [
      'blueprints/child.yaml:9:10 extends: no blueprint is named "code-reveiw" (metadata.name in blueprints/); did you mean "code-review"?',
    ]);
  });

  it('does not report a parent whose own file is broken as unknown', async () => {
    const { problems } = await validateRepository(
      writeRepo({
        ...VALID_REPO,
        'blueprints/child.yaml': CHILD,
        'blueprints/code-review.yaml': BLUEPRINT.replace('  owner:', '  ownr:'),
      }),
    );
    assert.deepEqual(
      problems.map((p) => `${p.file} ${p.path}`),
      ['blueprints/code-review.yaml metadata.owner', 'blueprints/code-review.yaml metadata.ownr'],
    );
  });

  it('passes on inheritance problems located in the file to change', async () => {
    const { problems } = await validateRepository(
      writeRepo({
        ...VALID_REPO,
        'blueprints/child.yaml': CHILD.replace(
          '    - name: github\n',
          '    - name: github\n    - name: evil\n      hosts: [evil.example.com]\n',
        ),
      }),
    );
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.file, 'blueprints/child.yaml');
    assert.equal(problems[0]!.path, 'spec.services[1]');
    assert.match(problems[0]!.message, /widens parent "code-review"/);
  });

  it('checks the effective blueprint: an inherited write to a service the child dropped', async () => {
    const child = CHILD.replace(/ {2}services:\n.*\n/, '  services: []\n').replace(/ {2}writes:[\s\S]*$/, '');
    const { problems } = await validateRepository(
      writeRepo({ ...VALID_REPO, 'blueprints/child.yaml': child }),
    );
    assert.deepEqual(lines(problems), [
      'blueprints/code-review.yaml:14:16 spec.writes[0].service: blueprint "child" inherits this write to service "github", which is not in its spec.services; it allows no services',
    ]);
  });

  it('throws PDK_CONFIG_NOT_FOUND for a missing directory', async () => {
    const missing = join(writeRepo({}), 'missing');
    await assert.rejects(validateRepository(missing), {
      code: 'PDK_CONFIG_NOT_FOUND',
      message: `desired-state directory not found: ${missing}`,
    });
  });
});

describe('requireValidRepository', () => {
  it('resolves with the state and effective blueprints of a valid repository', async () => {
    const { state, blueprints } = await requireValidRepository(writeRepo(VALID_REPO));
    assert.deepEqual([...state.profiles.keys()], ['standard']);
    // The name-only service is filled in from services/github.yaml.
    assert.deepEqual(blueprints.get('code-review')?.blueprint.spec.services?.[0]?.hosts, ['api.github.com']);
  });

  it('throws PDK_CONFIG_INVALID listing every problem', async () => {
    const root = writeRepo({
      ...VALID_REPO,
      'paddock.yaml': 'a: 1\na: 2\n',
      'profiles/standard.yaml': 'kind: Profile\n',
    });
    await assert.rejects(requireValidRepository(root), (error) => {
      assert.ok(isPaddockError(error, 'PDK_CONFIG_INVALID'));
      assert.equal(error.message, `desired-state repository ${root} is invalid: 5 problems in 3 files`);
      const problems = (error.details as { problems: ConfigProblem[] }).problems;
      assert.deepEqual(lines(problems), [
        'assignments.yaml:7:16 spec.assignments[0].profile: no profile is named "standard" (metadata.name in profiles/)',
        'paddock.yaml:2:1 : duplicate key "a" (first at line 1); remove one of them',
        'profiles/standard.yaml:1:1 apiVersion: is required ("paddock.dev/v1")',
        'profiles/standard.yaml:1:1 metadata: is required',
        'profiles/standard.yaml:1:1 spec: is required',
      ]);
      return true;
    });
  });
});

describe('countProblems', () => {
  it('uses singular and plural forms', () => {
    assert.equal(countProblems(1, 1), '1 problem in 1 file');
    assert.equal(countProblems(3, 2), '3 problems in 2 files');
  });
});
