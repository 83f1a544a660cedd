import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ambiguousPath, compilePathGlob, pathMatches } from '../../src/policy/index.ts';

const matches = (glob: string, path: string) => pathMatches(compilePathGlob(glob), path);

describe('path globs', () => {
  it('"*" matches within one segment only', () => {
    assert.equal(matches('/repos/*', '/repos/a'), true);
    assert.equal(matches('/repos/*', '/repos/'), true);
    assert.equal(matches('/repos/*', '/repos/a/b'), false);
    assert.equal(matches('/repos/*/pulls', '/repos/a/pulls'), true);
    assert.equal(matches('/repos/*/pulls', '/repos/a/b/pulls'), false);
    assert.equal(matches('/v1/*.json', '/v1/list.json'), true);
    assert.equal(matches('/v1/*.json', '/v1/listxjson'), false);
  });

  it('"**" matches any number of whole segments, including none', () => {
    assert.equal(matches('/repos/**', '/repos'), true);
    assert.equal(matches('/repos/**', '/repos/a/b/c'), true);
    assert.equal(matches('/repos/**', '/reposx'), false);
    assert.equal(matches('/repos/**', '/other/repos/a'), false);
    assert.equal(matches('/**', '/'), true);
    assert.equal(matches('/**', '/anything/at/all'), true);
    assert.equal(matches('/a/**/z', '/a/z'), true);
    assert.equal(matches('/a/**/z', '/a/b/c/z'), true);
    assert.equal(matches('/a/**/z', '/a/b/c/y'), false);
  });

  it('treats regex characters literally', () => {
    assert.equal(matches('/a.b/(c)', '/a.b/(c)'), true);
    assert.equal(matches('/a.b', '/axb'), false);
    assert.equal(matches('/a+', '/aa'), false);
  });

  it('is anchored and case-sensitive', () => {
    assert.equal(matches('/repos', '/repos/x'), false);
    assert.equal(matches('/repos', '/Repos'), false);
  });

  it('refuses a glob without a leading slash', () => {
    assert.throws(() => compilePathGlob('repos/**'), /must start with "\/"/);
  });
});

describe('ambiguousPath', () => {
  for (const path of [
    '/repos/../admin',
    '/repos/./x',
    '/repos/%2e%2e/admin',
    '/repos/.%2E/admin',
    '/repos/%2E/x',
    '/repos/..;/admin',
    '/repos/a%2fb',
    '/repos/a%2F..%2Fadmin',
    '/repos/a%5cb',
    '/repos\\..\\admin',
    '/repos//admin',
    '/repos/a;b=c',
    '/repos/%00',
    '/repos/%252e%252e',
    '/repos/%zz',
    'repos/x',
    '/..',
  ]) {
    it(`refuses ${path}`, () => {
      assert.notEqual(ambiguousPath(path), undefined);
    });
  }

  for (const path of [
    '/',
    '/repos/a/b',
    '/repos/a.b/c..d',
    '/x/%41%42',
    '/v1/a-b_c~d',
    '/.well-known/x',
    '/a/...',
  ]) {
    it(`accepts ${path}`, () => {
      assert.equal(ambiguousPath(path), undefined);
    });
  }
});
