import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createSecretFileOnce, readSecretFile } from '../../src/core/secret-file.ts';
import { tempDir } from '../support/releases.ts';

const options = { code: 'PDK_AUDIT_KEY', what: 'test key' } as const;

describe('secret files', () => {
  const temp = tempDir('paddock-secret-file-');
  after(() => temp.cleanup());

  it('creates a key file once, owner-only in an owner-only directory, and never overwrites it', () => {
    const path = join(temp.path, 'keys', 'one.key');
    createSecretFileOnce(path, () => 'first', options);
    createSecretFileOnce(path, () => 'second', options);
    assert.equal(readFileSync(path, 'utf8'), 'first');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(temp.path, 'keys')).mode & 0o777, 0o700);
    assert.equal(readSecretFile(path, 'owner', options).toString(), 'first');
  });

  it('refuses a file others can read, and one its group can read where only the owner may', () => {
    const path = join(temp.path, 'loose.key');
    writeFileSync(path, 'secret');
    chmodSync(path, 0o640);
    assert.throws(() => readSecretFile(path, 'owner', options), {
      code: 'PDK_AUDIT_KEY',
      message: `test key ${path} has mode 640: it must be readable by its owner only (chmod 600)`,
    });
    assert.equal(readSecretFile(path, 'group', options).toString(), 'secret');
    chmodSync(path, 0o604);
    assert.throws(() => readSecretFile(path, 'group', options), {
      code: 'PDK_AUDIT_KEY',
      message: /has mode 604: it must be unreadable by others/,
    });
  });

  it('names a missing file as missing', () => {
    const path = join(temp.path, 'absent.key');
    assert.throws(() => readSecretFile(path, 'group', options), {
      code: 'PDK_AUDIT_KEY',
      message: new RegExp(`^test key ${path} is missing`),
    });
  });
});
