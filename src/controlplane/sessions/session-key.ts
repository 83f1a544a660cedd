import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PaddockError } from '../../core/errors.ts';
import { createSecretFileOnce, readSecretFile } from '../../core/secret-file.ts';

// The key that seals the IdP refresh tokens stored with the sessions (AES-256-GCM): a database
// dump or backup never yields an IdP credential, and a sealed token is bound to its session's id
// (the additional authenticated data), so one copied into another session's row does not open.
// `paddock up` generates the key once under its data directory (mode 0600); `paddock serve`
// reads the one key every replica mounts (a Kubernetes Secret) and never creates it.

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';
const AAD_PREFIX = 'paddock session refresh token v1:';

/** Where `paddock up` keeps its session key. */
export function sessionKeyPath(dataDir: string): string {
  return join(dataDir, 'session-key');
}

/** Where the chart mounts the session key for `paddock serve` (deploy/helm/paddock: sessionKey). */
export const DEFAULT_SERVE_SESSION_KEY_FILE = '/etc/paddock/session-key/key';

export class SessionKey {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES)
      throw new PaddockError(
        'PDK_AUTH_SESSION_KEY',
        `the session key has ${key.length} bytes, not ${KEY_BYTES}`,
      );
    this.#key = Buffer.from(key);
  }

  /** A key that lives as long as this process (tests, and servers given none: sessions then end with it). */
  static ephemeral(): SessionKey {
    return new SessionKey(randomBytes(KEY_BYTES));
  }

  /** `v1.<base64url(iv | tag | ciphertext)>`, bound to `sessionId`. */
  seal(sessionId: string, refreshToken: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(aadFor(sessionId));
    const body = Buffer.concat([cipher.update(refreshToken, 'utf8'), cipher.final()]);
    return `${FORMAT}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  /** The refresh token; PDK_AUTH_SESSION_KEY when the text was not sealed by this key for this session. */
  open(sessionId: string, sealed: string): string {
    const [format, encoded] = sealed.split('.', 2);
    const bytes = Buffer.from(encoded ?? '', 'base64url');
    if (format !== FORMAT || bytes.length <= IV_BYTES + TAG_BYTES)
      throw new PaddockError('PDK_AUTH_SESSION_KEY', 'the stored refresh token is not in the sealed format');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(aadFor(sessionId));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch (error) {
      throw new PaddockError(
        'PDK_AUTH_SESSION_KEY',
        'the stored refresh token does not open with this session key for this session (another key, or moved from another session)',
        { cause: error },
      );
    }
  }
}

function aadFor(sessionId: string): Buffer {
  return Buffer.from(`${AAD_PREFIX}${sessionId}`, 'utf8');
}

function decode(text: string, path: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES)
    throw new PaddockError(
      'PDK_AUTH_SESSION_KEY',
      `session key ${path} does not hold ${KEY_BYTES} bytes (base64 or hex): create it with \`openssl rand -base64 32\``,
    );
  return key;
}

const KEY_FILE = { code: 'PDK_AUTH_SESSION_KEY', what: 'session key' } as const;

/**
 * `paddock up`: the key under `dataDir` (sessionKeyPath), generated on first start (mode 0600,
 * created exclusively so two processes starting together agree on one). PDK_AUTH_SESSION_KEY for a
 * key file readable by group or others.
 */
export function openLocalSessionKey(dataDir: string): SessionKey {
  const path = sessionKeyPath(dataDir);
  createSecretFileOnce(path, () => `${randomBytes(KEY_BYTES).toString('base64')}\n`, KEY_FILE);
  return new SessionKey(decode(readSecretFile(path, 'owner', KEY_FILE).toString('utf8'), path));
}

/**
 * `paddock serve`: the key the operator provisioned (the chart mounts it from a Secret, the same
 * for every replica); never created here. PDK_AUTH_SESSION_KEY when it is missing, malformed or
 * readable by others (group read is allowed: Kubernetes gives a Secret volume's files to the
 * pod's fsGroup).
 */
export function openProvisionedSessionKey(path: string): SessionKey {
  return new SessionKey(decode(readSecretFile(path, 'group', KEY_FILE).toString('utf8'), path));
}
