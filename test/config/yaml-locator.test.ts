import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FieldPath } from '../../src/config/repository.ts';
import { parseYamlDocument } from '../../src/config/yaml-document.ts';

const TEXT = `metadata:
  name: x
spec:
  services:
    - name: github
      ports: [443, "abc"]
    - name: npm
      hosts:
        - npm.mirror.example.com
  empty:
`;

const { locator } = parseYamlDocument('b.yaml', TEXT);
const at = (path: FieldPath) => {
  const { file, line, column } = locator.locate(path);
  return `${file}:${line}:${column}`;
};

describe('createLocator', () => {
  it('points at the value of a field', () => {
    assert.equal(at(['metadata', 'name']), 'b.yaml:2:9');
    assert.equal(at(['spec', 'services', 0, 'ports', 1]), 'b.yaml:6:20');
    assert.equal(at(['spec', 'services', 1, 'hosts', 0]), 'b.yaml:9:11');
  });

  it('points at a list item by index', () => {
    assert.equal(at(['spec', 'services', 1]), 'b.yaml:7:7');
  });

  it('points at the key of an empty value', () => {
    assert.equal(at(['spec', 'empty']), 'b.yaml:10:3');
  });

  it('points a missing field at the key of its nearest existing parent', () => {
    assert.equal(at(['metadata', 'owner']), 'b.yaml:1:1');
    assert.equal(at(['spec', 'services', 0, 'access']), 'b.yaml:5:7');
    assert.equal(at(['spec', 'services', 7, 'name']), 'b.yaml:4:3');
  });

  it('points at the start of the document for the root', () => {
    assert.equal(at([]), 'b.yaml:1:1');
  });

  it('locateKey points at the key rather than the value', () => {
    const key = locator.locateKey(['spec', 'services', 0, 'ports']);
    assert.deepEqual(key, { file: 'b.yaml', line: 6, column: 7 });
    assert.deepEqual(locator.locateKey(['spec', 'services', 1]), { file: 'b.yaml', line: 7, column: 7 });
  });
});
