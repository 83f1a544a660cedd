import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isPaddockError } from '../../src/core/index.ts';
import {
  openEncryptedFileSecretStore,
  writeEncryptedFileSecretStore,
} from '../../src/supervisor/egress/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'pdk-secret-store-'));
const SECRET = 'pdk-canary-store-5e4d3c2b1a09f8e7d6c5b4a39281706f';

describe('encrypted file secret store', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips with a raw 32-byte key, and the file holds no plaintext', async () => {
    const keyFile = join(dir, 'raw.key');
    writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
    const file = join(dir, 'raw.json');
    await writeEncryptedFileSecretStore({ file, keyFile, secrets: { 'github-pat': SECRET } });
    assert.ok(!readFileSync(file, 'utf8').includes(SECRET));
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).kdf.name, 'raw');
    const store = await openEncryptedFileSecretStore({ file, keyFile });
    assert.equal(await store.get('github-pat'), SECRET);
    await assert.rejects(
      store.get('missing'),
      (error) =>
        isPaddockError(error, 'PDK_SECRET_NOT_FOUND') &&
        error.message === 'secret "missing" is not in the secret store',
    );
  });

  it('round-trips with a passphrase key file (scrypt)', async () => {
    const keyFile = join(dir, 'pass.key');
    writeFileSync(keyFile, 'correct horse battery staple\n', { mode: 0o600 });
    const file = join(dir, 'pass.json');
    await writeEncryptedFileSecretStore({ file, keyFile, secrets: { a: 'one', b: 'two' } });
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).kdf.name, 'scrypt');
    const store = await openEncryptedFileSecretStore({ file, keyFile });
    assert.equal(await store.get('b'), 'two');
  });

  it('refuses the wrong key, an edited file, an edited header, and a key file others can read', async () => {
    const keyFile = join(dir, 'k.key');
    writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
    const file = join(dir, 'k.json');
    await writeEncryptedFileSecretStore({ file, keyFile, secrets: { a: SECRET } });
    const invalid = (error: unknown) =>
      isPaddockError(error, 'PDK_SECRET_STORE_INVALID') && !String(error.message).includes(SECRET);

    const wrongKey = join(dir, 'wrong.key');
    writeFileSync(wrongKey, randomBytes(32), { mode: 0o600 });
    await assert.rejects(openEncryptedFileSecretStore({ file, keyFile: wrongKey }), invalid);

    const stored = JSON.parse(readFileSync(file, 'utf8'));
    const data = Buffer.from(stored.data, 'base64');
    data[0]! ^= 1;
    writeFileSync(join(dir, 'edited.json'), JSON.stringify({ ...stored, data: data.toString('base64') }));
    await assert.rejects(openEncryptedFileSecretStore({ file: join(dir, 'edited.json'), keyFile }), invalid);

    writeFileSync(
      join(dir, 'header.json'),
      JSON.stringify({ ...stored, kdf: { name: 'scrypt', salt: 'AAAA' } }),
    );
    await assert.rejects(openEncryptedFileSecretStore({ file: join(dir, 'header.json'), keyFile }), invalid);

    chmodSync(keyFile, 0o644);
    await assert.rejects(
      openEncryptedFileSecretStore({ file, keyFile }),
      (error) => invalid(error) && /readable by group or others/.test((error as Error).message),
    );
  });

  it('refuses values that could inject headers', async () => {
    const keyFile = join(dir, 'inject.key');
    writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
    await assert.rejects(
      writeEncryptedFileSecretStore({
        file: join(dir, 'inject.json'),
        keyFile,
        secrets: { a: 'token\r\nX-Evil: 1' },
      }),
      (error) => isPaddockError(error, 'PDK_SECRET_STORE_INVALID'),
    );
  });
});
