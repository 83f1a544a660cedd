import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { testArguments } from '../../scripts/test.ts';
import { findPostgres } from '../support/postgres.ts';

// How the test runner turns its command line into `node --test` arguments, and finds PostgreSQL.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('testArguments', () => {
  it('runs every test file by default', () => {
    assert.deepEqual(testArguments([], ROOT), ['--test', '--test-concurrency=2', 'test/**/*.test.ts']);
  });

  it('turns directories into globs of their tests, relative to the repository, from any cwd', () => {
    assert.deepEqual(testArguments(['test/controlplane/'], ROOT), [
      '--test',
      '--test-concurrency=2',
      'test/controlplane/**/*.test.ts',
    ]);
    assert.deepEqual(testArguments(['controlplane', 'scripts/test.test.ts'], `${ROOT}/test`), [
      '--test',
      '--test-concurrency=2',
      'test/controlplane/**/*.test.ts',
      'test/scripts/test.test.ts',
    ]);
  });

  it('forwards options before the files and leaves globs to node --test', () => {
    assert.deepEqual(testArguments(['test/**/store*.test.ts', '--test-name-pattern=revoke'], ROOT), [
      '--test',
      '--test-concurrency=2',
      '--test-name-pattern=revoke',
      'test/**/store*.test.ts',
    ]);
  });
});

describe('findPostgres', () => {
  it('finds the newest installed server', () => {
    const found = findPostgres();
    assert.match(found.version, /^\d+$/);
    assert.equal(found.binDir, `/usr/lib/postgresql/${found.version}/bin`);
  });

  it('fails loudly, naming the package, when the binaries are missing', () => {
    assert.throws(() => findPostgres('/nonexistent/postgresql'), {
      message:
        'PostgreSQL server binaries not found (no /nonexistent/postgresql/*/bin/initdb): the store tests need a real ' +
        'PostgreSQL; install the Debian package postgresql (apt-get install postgresql, or scripts/setup.sh)',
    });
  });
});
