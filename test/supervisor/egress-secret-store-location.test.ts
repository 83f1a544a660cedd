import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isPaddockError } from '../../src/core/errors.ts';
import { assertSecretStoreOutside } from '../../src/supervisor/index.ts';

// The one check `paddock run`, `paddock up` and the workspace supervisor make before opening a
// secret store: neither the store nor its key may lie where the sandbox can read, on the real
// filesystem (symlinks resolved, a key that does not exist yet judged by its real parent).

describe('assertSecretStoreOutside: a secret store the sandbox could read is refused', () => {
  let dir: string;
  let workdir: string;
  const dirs = () => [{ label: '--workdir', path: workdir }];
  const exposed = (store: { file: string; keyFile: string }, names: string) =>
    assert.throws(
      () => assertSecretStoreOutside(store, dirs()),
      (error: unknown) =>
        isPaddockError(error, 'PDK_SECRET_STORE_EXPOSED') &&
        error.message.includes(names) &&
        error.message.includes('--workdir'),
    );

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pdk-store-location-'));
    workdir = join(dir, 'work');
    mkdirSync(workdir);
    mkdirSync(join(dir, 'private'));
    writeFileSync(join(dir, 'private', 'secrets.json'), '{}');
    symlinkSync(workdir, join(dir, 'alias'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('allows a store and key outside, including a sibling whose name extends the workdir', () => {
    const sibling = join(dir, 'work2');
    mkdirSync(sibling);
    assertSecretStoreOutside(
      { file: join(dir, 'private', 'secrets.json'), keyFile: join(sibling, 'k') },
      dirs(),
    );
  });

  it('refuses the store inside, the key inside, and the directory itself', () => {
    const outside = join(dir, 'private', 'secrets.json');
    exposed({ file: join(workdir, 's.json'), keyFile: join(dir, 'private', 'k') }, join(workdir, 's.json'));
    exposed({ file: outside, keyFile: join(workdir, 'deep', 'k') }, join(workdir, 'deep', 'k'));
    exposed({ file: outside, keyFile: workdir }, workdir);
  });

  it('refuses a path through a symlink into the workdir, even for a key that does not exist yet', () => {
    const key = join(dir, 'alias', 'not-yet', 'secrets.key');
    exposed({ file: join(dir, 'private', 'secrets.json'), keyFile: key }, key);
  });
});
