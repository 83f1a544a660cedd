import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  openLocalSessionKey,
  openProvisionedSessionKey,
  SessionKey,
  sessionKeyPath,
} from '../../../src/controlplane/sessions/session-key.ts';
import { isPaddockError } from '../../../src/core/errors.ts';

// The session key (AES-256-GCM) that seals the IdP refresh tokens in the store: what it accepts
// as a key file on `paddock serve` (provisioned, never created) and `paddock up` (created once),
// and what it refuses to open.

const refused = (error: unknown) => isPaddockError(error, 'PDK_AUTH_SESSION_KEY');

describe('session key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-session-key-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('seals a token for one session: a fresh IV each time; another session, key or a flipped bit does not open it', () => {
    const key = SessionKey.ephemeral();
    const first = key.seal('session-a', 'refresh-token-canary');
    const second = key.seal('session-a', 'refresh-token-canary');
    assert.notEqual(first, second);
    assert.equal(key.open('session-a', first), 'refresh-token-canary');
    assert.equal(first.includes('refresh-token-canary'), false);
    assert.throws(() => key.open('session-b', first), refused);
    assert.throws(() => SessionKey.ephemeral().open('session-a', first), refused);
    const bytes = Buffer.from(first.slice(3), 'base64url');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    assert.throws(() => key.open('session-a', `v1.${bytes.toString('base64url')}`), refused);
    assert.throws(() => key.open('session-a', 'refresh-token-canary'), refused);
    assert.throws(() => new SessionKey(randomBytes(16)), refused);
  });

  it('paddock serve: reads the provisioned key (base64 or hex, owner or group readable), never creates one', () => {
    const missing = join(dir, 'missing', 'key');
    assert.throws(() => openProvisionedSessionKey(missing), refused);
    assert.equal(existsSync(missing), false, 'no key was generated');

    const material = randomBytes(32);
    const base64 = join(dir, 'base64-key');
    writeFileSync(base64, `${material.toString('base64')}\n`, { mode: 0o440 });
    const hex = join(dir, 'hex-key');
    writeFileSync(hex, material.toString('hex'), { mode: 0o400 });
    const sealed = openProvisionedSessionKey(base64).seal('s', 'token');
    assert.equal(openProvisionedSessionKey(hex).open('s', sealed), 'token', 'the same key either way');

    const short = join(dir, 'short-key');
    writeFileSync(short, randomBytes(16).toString('base64'), { mode: 0o400 });
    assert.throws(() => openProvisionedSessionKey(short), refused);
    const loose = join(dir, 'loose-key');
    writeFileSync(loose, material.toString('base64'), { mode: 0o400 });
    chmodSync(loose, 0o444);
    assert.throws(() => openProvisionedSessionKey(loose), refused);
  });

  it('paddock up: generates the key once under the data directory, mode 0600', () => {
    const dataDir = join(dir, 'data');
    const first = openLocalSessionKey(dataDir);
    assert.equal(statSync(sessionKeyPath(dataDir)).mode & 0o777, 0o600);
    const sealed = first.seal('s', 'token');
    assert.equal(openLocalSessionKey(dataDir).open('s', sealed), 'token', 'the same key on the next start');
  });
});
