import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import {
  CHECKPOINT_GENESIS,
  checkCheckpoint,
  openFileSigner,
  openProvisionedSigner,
  publicKeyFromPem,
  publicKeyPathFor,
  signCheckpoint,
} from '../../../src/audit/index.ts';

// The checkpoint key file and the signed checkpoint format, with real Ed25519 keys.

const dir = mkdtempSync(join(tmpdir(), 'paddock-ckpt-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('checkpoint signer', () => {
  it('generates a 0600 key on first start, reuses it, and exports the public key', () => {
    const path = join(dir, 'audit', 'checkpoint-key.pem');
    const first = openFileSigner(path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.match(first.keyId, /^ed25519:[0-9a-f]{32}$/);
    assert.equal(readFileSync(publicKeyPathFor(path), 'utf8'), first.publicKeyPem);
    assert.equal(openFileSigner(path).keyId, first.keyId);
  });

  it('refuses a key file others can read, and a key that is not Ed25519', () => {
    const path = join(dir, 'loose.pem');
    openFileSigner(path);
    chmodSync(path, 0o644);
    assert.throws(() => openFileSigner(path), {
      code: 'PDK_AUDIT_KEY',
      message: `audit signing key ${path} has mode 644: it must be readable by its owner only (chmod 600)`,
    });
    const rsa = join(dir, 'rsa.pem');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(rsa, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    assert.throws(() => openFileSigner(rsa), {
      code: 'PDK_AUDIT_KEY',
      message: `audit signing key ${rsa} is rsa, not Ed25519`,
    });
  });

  it('a provisioned key (a mounted Secret) is only read: never generated, never written beside, checked against its public key', () => {
    const secret = join(dir, 'secret');
    mkdirSync(secret);
    const path = join(secret, 'checkpoint-key.pem');
    assert.throws(() => openProvisionedSigner(path), { code: 'PDK_AUDIT_KEY' });
    assert.ok(!existsSync(path), 'no key generated');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    // Group read is what a Secret volume gets under the pod's fsGroup; others may not read.
    chmodSync(path, 0o440);
    const signer = openProvisionedSigner(path);
    assert.equal(signer.publicKeyPem, publicKey.export({ type: 'spki', format: 'pem' }).toString());
    assert.ok(!existsSync(publicKeyPathFor(path)), 'nothing written beside the key');
    chmodSync(path, 0o444);
    assert.throws(() => openProvisionedSigner(path), {
      code: 'PDK_AUDIT_KEY',
      message: `audit signing key ${path} has mode 444: it must be unreadable by others (chmod 600, or 440 for a group)`,
    });
    chmodSync(path, 0o400);
    writeFileSync(publicKeyPathFor(path), publicKey.export({ type: 'spki', format: 'pem' }));
    assert.equal(openProvisionedSigner(path).keyId, signer.keyId);
    const other = generateKeyPairSync('ed25519').publicKey;
    writeFileSync(publicKeyPathFor(path), other.export({ type: 'spki', format: 'pem' }));
    assert.throws(() => openProvisionedSigner(path), {
      code: 'PDK_AUDIT_KEY',
      message: /is not the public key of/,
    });
  });

  it('signs checkpoints that verify, and catches an edited body or a broken link', async () => {
    const signer = openFileSigner(join(dir, 'k.pem'));
    const keys = new Map([[signer.keyId, publicKeyFromPem(signer.publicKeyPem)]]);
    const heads = [
      { source: 'ws-b', seq: 2, hash: 'b'.repeat(64) },
      { source: 'ws-a', seq: 9, hash: 'a'.repeat(64) },
    ];
    const one = await signCheckpoint(signer, {
      index: 1,
      time: 1000,
      gseq: 11,
      prev: CHECKPOINT_GENESIS,
      heads,
    });
    assert.deepEqual(
      JSON.parse(one.body).heads.map((h: { source: string }) => h.source),
      ['ws-a', 'ws-b'],
    );
    assert.ok('body' in checkCheckpoint(one, undefined, keys));
    const two = await signCheckpoint(signer, { index: 2, time: 2000, gseq: 12, prev: one.hash, heads });
    assert.ok('body' in checkCheckpoint(two, one, keys));
    const edited = { ...two, body: two.body.replace('"seq":9', '"seq":8') };
    assert.deepEqual(checkCheckpoint(edited, one, keys), { invalid: 'hash does not match the body' });
    const resigned = await signCheckpoint(signer, {
      index: 2,
      time: 2000,
      gseq: 12,
      prev: CHECKPOINT_GENESIS,
      heads,
    });
    assert.deepEqual(checkCheckpoint(resigned, one, keys), {
      invalid: 'prev does not match the hash of checkpoint 1: a checkpoint was replaced',
    });
    const back = await signCheckpoint(signer, { index: 2, time: 2000, gseq: 5, prev: one.hash, heads });
    assert.deepEqual(checkCheckpoint(back, one, keys), {
      invalid: "gseq 5 goes back from checkpoint 1's 11",
    });
  });
});
