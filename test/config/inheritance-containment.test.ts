import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  commandPatternContains,
  pathGlobContains,
  pathGlobsMayOverlap,
  wildcardContains,
  wildcardsMayOverlap,
} from '../../src/config/inheritance/glob-containment.ts';
import { fsPathContains } from '../../src/config/inheritance/narrow-data-scope.ts';
import {
  cidrContains,
  hostPatternContains,
  parseCidr,
} from '../../src/config/inheritance/network-containment.ts';

// The containment primitives behind the narrowing check. Each table row is
// [outer, inner, expected]; a wrong `true` would let a child widen its parent.

function table(
  name: string,
  fn: (outer: string, inner: string) => boolean,
  rows: [string, string, boolean][],
) {
  describe(name, () => {
    for (const [outer, inner, expected] of rows) {
      it(`${JSON.stringify(outer)} ${expected ? 'contains' : 'does not contain'} ${JSON.stringify(inner)}`, () => {
        assert.equal(fn(outer, inner), expected);
      });
    }
  });
}

table('wildcardContains', wildcardContains, [
  ['abc', 'abc', true],
  ['a*', 'abc', true],
  ['a*', 'a*c', true],
  ['*', '*', true],
  ['a*c', 'a*', false],
  ['abc', 'a*', false],
  ['*b*', 'xbx*', true],
  ['*b*', 'x*x', false],
  ['a**', 'a*', true],
]);

table('commandPatternContains', commandPatternContains, [
  ['git *', 'git status', true],
  ['git status', 'git *', false],
  ['git *', 'git  push   origin', true],
  ['git push*', 'git push *', true],
  ['git push *', 'git push*', false],
  ['npm run *', 'npm *', false],
  ['npm *', 'npm run test', true],
  ['git *', 'gitk', false],
]);

table('pathGlobContains', pathGlobContains, [
  ['/repos/**', '/repos/a/b', true],
  ['/repos/**', '/repos/*/pulls/**', true],
  ['/repos/**', '/repos', true],
  ['/repos/*', '/repos/**', false],
  ['/repos/*', '/repos/a/b', false],
  ['/repos/*/*', '/repos/*/x', true],
  ['/repos/*/x', '/repos/*/*', false],
  ['/**', '/anything/**', true],
  ['/a/**/z', '/a/b/c/z', true],
  ['/a/**/z', '/a/**/y/z', true],
  ['/a/**/z', '/a/**', false],
  ['/repos/*/*/pulls/*/reviews', '/repos/**/reviews', false],
  ['/v1/*.json', '/v1/a.json', true],
  ['/v1/a*', '/v1/a**', false], // a child "**" inside a segment counts as crossing segments
  ['/v1/a**', '/v1/ab/c', false], // a parent one counts as staying inside its segment
]);

describe('pathGlobsMayOverlap', () => {
  it('answers whether some path matches both', () => {
    assert.equal(pathGlobsMayOverlap('/repos/*/x', '/repos/a/*'), true);
    assert.equal(pathGlobsMayOverlap('/repos/**', '/users/*'), false);
    assert.equal(pathGlobsMayOverlap('/a/**/z', '/a/b/**'), true);
    assert.equal(pathGlobsMayOverlap('/a/b', '/a/c'), false);
    assert.equal(pathGlobsMayOverlap('/a/x*', '/a/*y'), true);
    assert.equal(wildcardsMayOverlap('x*', 'y*'), false);
    assert.equal(wildcardsMayOverlap('*x', '*y'), false);
  });
});

table('hostPatternContains', hostPatternContains, [
  ['api.example.com', 'api.example.com', true],
  ['*.example.com', 'a.example.com', true],
  ['*.example.com', '*.example.com', true],
  ['api.example.com', '*.example.com', false],
  ['*.example.com', 'a.b.example.com', false],
  ['*.example.com', 'example.com', false],
  ['*.example.com', 'evil-example.com', false],
  ['*.0.0.1', '127.0.0.1', false],
  ['*.example.com', '*.a.example.com', false],
]);

table('cidrContains', cidrContains, [
  ['10.0.0.0/8', '10.20.0.0/16', true],
  ['10.20.0.0/16', '10.0.0.0/8', false],
  ['10.20.0.0/16', '10.21.0.0/16', false],
  ['10.20.0.0/16', '10.20.255.0/24', true],
  ['fd00::/8', 'fd12:3456::/32', true],
  ['fd12::/16', 'fd00::/8', false],
  ['::ffff:10.0.0.0/104', '::ffff:10.1.0.0/112', true],
  ['10.0.0.0/8', 'fd00::/8', false],
  ['10.0.0.0/8', '10.0.0.0/33', false],
  ['bogus/8', '10.0.0.0/16', false],
]);

describe('parseCidr', () => {
  it('rejects malformed ranges', () => {
    for (const text of ['10.0.0/8', '10.0.0.256/8', '1::2::3/64', '10.0.0.0', '::1/129'])
      assert.equal(parseCidr(text), undefined, text);
  });
});

table('fsPathContains', fsPathContains, [
  ['/workspace', '/workspace/src', true],
  ['/workspace/', '/workspace', true],
  ['/workspace', '/workspace-old', false],
  ['/workspace/src', '/workspace', false],
  ['/', '/etc', true],
  ['/workspace', '/*', false],
]);
