import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkDocument } from '../../src/config/check-document.ts';
import { findKind } from '../../src/config/kinds.ts';
import type { Blueprint } from '../../src/config/schema/index.ts';
import { BLUEPRINT, PROFILE } from './temp-repo.ts';

const BLUEPRINT_KIND = findKind('Blueprint')!;
const lines = (problems: { line: number; column: number; path: string; message: string }[]) =>
  problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);

describe('checkDocument', () => {
  it('returns a frozen, schema-checked document with defaults applied', () => {
    const { document, problems } = checkDocument<Blueprint>('blueprints/cr.yaml', BLUEPRINT, BLUEPRINT_KIND);
    assert.deepEqual(problems, []);
    assert.equal(document!.file, 'blueprints/cr.yaml');
    assert.equal(document!.value.spec.reviewGates!.minApprovals, 1);
    assert.ok(Object.isFrozen(document!.value.spec.services));
    assert.throws(() => {
      (document!.value.metadata as { name: string }).name = 'changed';
    }, TypeError);
    assert.deepEqual(document!.locate(['spec', 'writes', 0, 'review']), {
      file: 'blueprints/cr.yaml',
      line: 17,
      column: 15,
    });
  });

  it('reports a document of another kind in the wrong folder, and nothing else about it', () => {
    const { document, problems } = checkDocument('blueprints/standard.yaml', PROFILE, BLUEPRINT_KIND);
    assert.equal(document, undefined);
    assert.deepEqual(lines(problems), [
      '2:7 kind: a Profile does not belong in blueprints/, which holds kind Blueprint; move the file to profiles/ or change its kind',
    ]);
  });

  it('leaves an unknown kind to the schema, which suggests the right one', () => {
    const text = BLUEPRINT.replace('kind: Blueprint', 'kind: Blueprnt');
    assert.deepEqual(lines(checkDocument('b.yaml', text, BLUEPRINT_KIND).problems), [
      '2:7 kind: must be "Blueprint", got string "Blueprnt"; did you mean "Blueprint"?',
    ]);
  });

  it('reports every schema problem of a file with field paths', () => {
    const text = `apiVersion: paddock.dev/v1
kind: Blueprint
metadata:
  name: Code_Review
  version: 1.3
  ownr: appsec@example.com
  incidentContact: secops@example.com
  reviewCadence: 90d
spec:
  goal: Review.
  services:
    - name: github
      ports: [443, "abc"]
      access: readonly
`;
    assert.deepEqual(lines(checkDocument('b.yaml', text, BLUEPRINT_KIND).problems), [
      '3:1 metadata.owner: is required',
      '4:9 metadata.name: must be a DNS label: lowercase letters, digits and "-", 1-63 characters, got string "Code_Review"',
      '5:12 metadata.version: must be a string, got number 1.3',
      '6:3 metadata.ownr: unknown field "ownr"; did you mean "owner"?',
      '13:20 spec.services[0].ports[1]: must be a number, got string "abc"',
      '14:15 spec.services[0].access: must be one of "read-only", "read-write", "full", got string "readonly"; did you mean "read-only"?',
    ]);
  });

  it('reports YAML problems and skips the schema for that file', () => {
    const { document, problems } = checkDocument(
      'b.yaml',
      'kind: Blueprint\nkind: Blueprint\n',
      BLUEPRINT_KIND,
    );
    assert.equal(document, undefined);
    assert.deepEqual(lines(problems), ['2:1 : duplicate key "kind" (first at line 1); remove one of them']);
  });

  it('reports a document that is not a mapping', () => {
    assert.deepEqual(lines(checkDocument('b.yaml', '- a\n- b\n', BLUEPRINT_KIND).problems), [
      '1:1 : must be a mapping, got a list',
    ]);
  });
});
