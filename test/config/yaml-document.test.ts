import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_YAML_DEPTH, parseYamlDocument } from '../../src/config/yaml-document.ts';
import { billionLaughs } from './temp-repo.ts';

function problems(text: string) {
  return parseYamlDocument('f.yaml', text).problems.map((p) => `${p.line}:${p.column} ${p.message}`);
}

describe('parseYamlDocument', () => {
  it('parses a document into plain data with YAML 1.2 scalars', () => {
    const parsed = parseYamlDocument('f.yaml', 'a: yes\nb: 0o17\nc: [1, "2"]\nd: ~\n');
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.data, { a: 'yes', b: 15, c: [1, '2'], d: null });
  });

  it('keeps YAML 1.2 meanings under a %YAML 1.1 directive', () => {
    assert.deepEqual(parseYamlDocument('f.yaml', '%YAML 1.1\n---\nenabled: on\n').data, { enabled: 'on' });
  });

  it('reports a duplicate key at the second key, naming the first line', () => {
    assert.deepEqual(problems('spec:\n  goal: a\n  tools: {}\n  goal: b\n'), [
      '4:3 duplicate key "goal" (first at line 2); remove one of them',
    ]);
  });

  it('reports every duplicate key of the file', () => {
    assert.deepEqual(problems('a: 1\nb:\n  c: 1\n  c: 2\na: 3\n'), [
      '4:3 duplicate key "c" (first at line 3); remove one of them',
      '5:1 duplicate key "a" (first at line 1); remove one of them',
    ]);
  });

  it('rejects anchors and aliases with one problem at the first anchor', () => {
    assert.deepEqual(problems('a: &x [1]\nb: *x\nc: *x\n'), [
      '1:4 YAML anchors (&name) and aliases (*name) are not allowed: write each value out in full',
    ]);
    assert.equal(parseYamlDocument('f.yaml', 'a: &x 1\n').data, undefined);
  });

  it('finishes a billion-laughs document quickly with an error and no data', () => {
    const started = performance.now();
    const parsed = parseYamlDocument('lol.yaml', billionLaughs());
    assert.ok(performance.now() - started < 1000, 'took longer than a second');
    assert.equal(parsed.data, undefined);
    assert.deepEqual(
      parsed.problems.map((p) => p.message),
      ['YAML anchors (&name) and aliases (*name) are not allowed: write each value out in full'],
    );
  });

  it('rejects tags, which would create non-JSON values', () => {
    assert.deepEqual(problems('a: !!binary aGk=\nb: !custom x\n'), [
      '1:4 YAML tags (!!binary) are not allowed: write plain strings, numbers, lists and mappings',
      '2:4 YAML tags (!custom) are not allowed: write plain strings, numbers, lists and mappings',
    ]);
  });

  it('rejects several documents in one file at the second one', () => {
    assert.deepEqual(problems('a: 1\n---\nb: 2\n---\nc: 3\n'), [
      '2:1 file holds 3 YAML documents (separated by ---); put each object in its own file',
    ]);
  });

  it('reports an empty file, a comment-only file and a bare document marker', () => {
    const empty = ['1:1 file is empty: expected a YAML mapping with apiVersion and kind'];
    assert.deepEqual(problems(''), empty);
    assert.deepEqual(problems('# nothing yet\n'), empty);
    assert.deepEqual(problems('---\n'), empty);
  });

  it('reports syntax errors with their position and no data', () => {
    const parsed = parseYamlDocument('f.yaml', 'a: 1\nb: "open\n');
    assert.equal(parsed.data, undefined);
    assert.deepEqual(
      parsed.problems.map((p) => [p.line, p.column, p.message]),
      [[3, 1, 'invalid YAML: Missing closing "quote']],
    );
  });

  it('rejects tabs used as indentation', () => {
    assert.match(problems('a:\n\tb: 1\n')[0]!, /^2:1 invalid YAML: Tabs are not allowed/);
  });

  it('rejects lists and mappings used as keys', () => {
    assert.deepEqual(problems('? [a, b]\n: 1\n'), [
      '1:3 mapping keys must be plain strings, not lists or mappings',
    ]);
  });

  it(`rejects nesting deeper than ${MAX_YAML_DEPTH} levels`, () => {
    const deep = `${'- '.repeat(MAX_YAML_DEPTH + 5)}x\n`;
    assert.deepEqual(problems(deep), [
      `1:${2 * MAX_YAML_DEPTH + 1} YAML is nested more than ${MAX_YAML_DEPTH} levels deep`,
    ]);
    assert.deepEqual(problems(`${'- '.repeat(MAX_YAML_DEPTH)}x\n`), []);
  });

  it('survives hostile flow nesting without a stack overflow', () => {
    const parsed = parseYamlDocument('f.yaml', `a: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
    assert.equal(parsed.data, undefined);
    assert.ok(parsed.problems.length > 0);
  });

  it('keeps __proto__ as an ordinary key instead of changing the prototype', () => {
    const data = parseYamlDocument('f.yaml', '__proto__: {polluted: true}\n').data as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
    assert.deepEqual(Object.keys(data), ['__proto__']);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});
