import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkEffectiveBlueprint, checkReferences } from '../../src/config/check-references.ts';
import { loadRepository } from '../../src/config/load-repository.ts';
import type { ConfigProblem } from '../../src/config/repository.ts';
import { ASSIGNMENTS, BLUEPRINT, PROFILE, VALID_REPO, writeRepo } from './temp-repo.ts';

const lines = (problems: ConfigProblem[]) =>
  problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`);

async function stateOf(files: Record<string, string>) {
  const { state, problems } = await loadRepository(writeRepo({ ...VALID_REPO, ...files }));
  assert.deepEqual(problems, [], 'the fixture itself must load cleanly');
  return state;
}

describe('checkReferences', () => {
  it('finds nothing wrong in a consistent repository', async () => {
    assert.deepEqual(checkReferences(await stateOf({})), []);
  });

  it('reports assignments naming unknown profiles and blueprints, with suggestions', async () => {
    const state = await stateOf({
      'assignments.yaml': ASSIGNMENTS.replace('profile: standard', 'profile: standrd').replace(
        'blueprints: [code-review]',
        'blueprints: [code-review, code-reveiw, deploy]',
      ),
    });
    assert.deepEqual(lines(checkReferences(state)), [
      'assignments.yaml:7:16 spec.assignments[0].profile: no profile is named "standrd" (metadata.name in profiles/); did you mean "standard"?',
      'assignments.yaml:8:33 spec.assignments[0].blueprints[1]: no blueprint is named "code-reveiw" (metadata.name in blueprints/); did you mean "code-review"?',
      'assignments.yaml:8:46 spec.assignments[0].blueprints[2]: no blueprint is named "deploy" (metadata.name in blueprints/)',
    ]);
  });

  it("reports a profile's release channel that paddock.yaml does not declare; accepts a declared one", async () => {
    const state = await stateOf({ 'profiles/standard.yaml': `${PROFILE}  releaseChannel: stabel\n` });
    assert.deepEqual(lines(checkReferences(state)), [
      'profiles/standard.yaml:10:19 spec.releaseChannel: release channel "stabel" is not in paddock.yaml spec.releases.channels (canary, stable); did you mean "stable"?',
    ]);
    assert.deepEqual(
      checkReferences(await stateOf({ 'profiles/standard.yaml': `${PROFILE}  releaseChannel: stable\n` })),
      [],
    );
  });

  it('reports a service without hosts that names no shared service', async () => {
    const state = await stateOf({
      'blueprints/code-review.yaml': BLUEPRINT.replace(
        '    - name: github\n',
        '    - name: github\n    - name: githb\n',
      ),
    });
    assert.deepEqual(lines(checkReferences(state)), [
      'blueprints/code-review.yaml:13:13 spec.services[1].name: service "githb" has no hosts and services/ defines no service of that name: add hosts, or add services/githb.yaml; did you mean "github"?',
    ]);
  });

  it('accepts a service that lists its own hosts without a shared definition', async () => {
    const state = await stateOf({
      'blueprints/code-review.yaml': BLUEPRINT.replace(
        '    - name: github\n',
        '    - name: github\n    - name: pypi\n      hosts: [pypi.mirror.example.com]\n',
      ),
    });
    assert.deepEqual(checkReferences(state), []);
  });

  it('reports extends naming an unknown blueprint', async () => {
    const state = await stateOf({
      'blueprints/code-review.yaml': BLUEPRINT.replace('spec:\n', 'extends: coding-bse\nspec:\n'),
      'blueprints/base.yaml': BLUEPRINT.replace('name: code-review', 'name: coding-base'),
    });
    assert.deepEqual(lines(checkReferences(state)), [
      'blueprints/code-review.yaml:9:10 extends: no blueprint is named "coding-bse" (metadata.name in blueprints/); did you mean "coding-base"?',
    ]);
  });
});

describe('checkEffectiveBlueprint', () => {
  async function blueprintOf(text: string) {
    const state = await stateOf({ 'blueprints/code-review.yaml': text });
    return state.blueprints.get('code-review')!;
  }

  it('accepts writes to listed services with review gates present', async () => {
    const document = await blueprintOf(BLUEPRINT);
    assert.deepEqual(checkEffectiveBlueprint(document.value, document.file, document.locate), []);
  });

  it('reports a write to a service the blueprint does not list', async () => {
    const document = await blueprintOf(BLUEPRINT.replace('    - service: github', '    - service: gitlab'));
    assert.deepEqual(lines(checkEffectiveBlueprint(document.value, document.file, document.locate)), [
      'blueprints/code-review.yaml:14:16 spec.writes[0].service: blueprint "code-review" writes to service "gitlab", which is not in its spec.services; did you mean "github"?',
    ]);
  });

  it('lists the allowed services when nothing is close', async () => {
    const document = await blueprintOf(BLUEPRINT.replace('    - service: github', '    - service: jira'));
    assert.match(
      lines(checkEffectiveBlueprint(document.value, document.file, document.locate))[0]!,
      /writes to service "jira", which is not in its spec.services; its services are github$/,
    );
  });

  it('requires reviewGates when a write needs review', async () => {
    const document = await blueprintOf(BLUEPRINT.replace(/ {2}reviewGates:\n.*\n/, ''));
    assert.deepEqual(lines(checkEffectiveBlueprint(document.value, document.file, document.locate)), [
      'blueprints/code-review.yaml:17:15 spec.writes[0].review: blueprint "code-review" requires review of this write but has no spec.reviewGates: add reviewGates with the reviewers who approve it',
    ]);
  });

  it('does not require reviewGates when no write needs review', async () => {
    const document = await blueprintOf(
      BLUEPRINT.replace(/ {2}reviewGates:\n.*\n/, '').replace('review: required', 'review: none'),
    );
    assert.deepEqual(checkEffectiveBlueprint(document.value, document.file, document.locate), []);
  });
  it('reports a rule method that the service access can never let through', async () => {
    const document = await blueprintOf(
      BLUEPRINT.replace(
        '    - name: github\n',
        '    - name: github\n    - name: wiki\n      hosts: [wiki.example.com]\n      access: read-only\n      rules:\n        - { methods: [GET, DELETE], paths: ["/**"] }\n',
      ),
    );
    assert.deepEqual(
      lines(checkEffectiveBlueprint(document.value, document.file, document.locate)).map((line) =>
        line.replace(/:\d+:\d+ /, ' '),
      ),
      [
        'blueprints/code-review.yaml spec.services[1].rules[0].methods[1]: DELETE is outside access read-only (GET, HEAD, OPTIONS), so this rule can never match: widen access or drop the method',
      ],
    );
  });
});

describe('checkReferences with files that have problems', () => {
  it('does not report references to a name whose file is already reported', async () => {
    const root = writeRepo({
      ...VALID_REPO,
      'blueprints/code-review.yaml': BLUEPRINT.replace('  owner:', '  ownr:'),
    });
    const { state, problems, namesWithProblems } = await loadRepository(root);
    assert.equal(problems.length, 2);
    assert.deepEqual([...namesWithProblems], ['Blueprint/code-review']);
    assert.deepEqual(checkReferences(state, namesWithProblems), []);
    assert.equal(checkReferences(state).length, 1, 'without the names the assignment would be reported');
  });
});
