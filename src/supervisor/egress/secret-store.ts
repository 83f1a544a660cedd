import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { PaddockError } from '../../core/index.ts';

// Where the gateway gets the secrets it injects. The embedded default is an encrypted file:
// AES-256-GCM over a JSON map of name -> value, with the key in a separate key file that,
// like the store, lives outside the sandbox (readable by the supervisor only). Other stores
// (HashiCorp Vault, Azure Key Vault) implement the same one-method interface; see
// docs/egress.md for what they need.

/** A source of secrets by name. Implementations must never log or expose the values. */
export interface SecretStore {
  /** The secret's value. Rejects with PDK_SECRET_NOT_FOUND when the store has no such secret. */
  get(name: string): Promise<string>;
}

const FORMAT = 'paddock-secrets/v1';
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const MAX_SECRET_BYTES = 8 * 1024;
const scrypt = promisify(scryptCallback) as (
  password: Buffer,
  salt: Buffer,
  length: number,
  options: object,
) => Promise<Buffer>;

type Kdf = { readonly name: 'raw' } | { readonly name: 'scrypt'; readonly salt: string };

interface StoreFile {
  readonly format: typeof FORMAT;
  readonly kdf: Kdf;
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

export interface EncryptedFileSecretStoreOptions {
  /** The encrypted store (JSON). */
  readonly file: string;
  /**
   * The key file: exactly 32 raw bytes (kdf `raw`), or a passphrase (kdf `scrypt`, N=2^15,
   * r=8, p=1; a trailing newline is ignored). Must not be readable by group or others.
   */
  readonly keyFile: string;
}

function invalid(message: string, cause?: unknown): PaddockError {
  return new PaddockError('PDK_SECRET_STORE_INVALID', message, cause === undefined ? {} : { cause });
}

async function deriveKey(keyFile: string, kdf: Kdf): Promise<Buffer> {
  const info = await stat(keyFile).catch((error) => {
    throw invalid(`secret key file ${keyFile} cannot be read`, error);
  });
  if ((info.mode & 0o077) !== 0)
    throw invalid(`secret key file ${keyFile} is readable by group or others; chmod 600 it`);
  const material = await readFile(keyFile);
  if (kdf.name === 'raw') {
    if (material.length !== 32)
      throw invalid(`secret key file ${keyFile} must hold exactly 32 bytes for kdf "raw"`);
    return material;
  }
  const passphrase = material.toString('utf8').replace(/\r?\n$/, '');
  if (passphrase.length < 12)
    throw invalid(`secret key file ${keyFile} holds a passphrase shorter than 12 characters`);
  return scrypt(Buffer.from(passphrase, 'utf8'), Buffer.from(kdf.salt, 'base64'), 32, SCRYPT);
}

function additionalData(file: Pick<StoreFile, 'format' | 'kdf'>): Buffer {
  return Buffer.from(JSON.stringify({ format: file.format, kdf: file.kdf }));
}

/**
 * Opens an encrypted secret file, decrypting it once; the values stay in this process's
 * memory. Rejects with PDK_SECRET_STORE_INVALID when the file is corrupt, edited, or the
 * key is wrong (GCM authentication covers the header too).
 *
 * @example const store = await openEncryptedFileSecretStore({ file: '/var/lib/paddock/secrets.json', keyFile: '/etc/paddock/secrets.key' });
 */
export async function openEncryptedFileSecretStore(
  options: EncryptedFileSecretStoreOptions,
): Promise<SecretStore> {
  let parsed: StoreFile;
  try {
    parsed = JSON.parse(await readFile(options.file, 'utf8')) as StoreFile;
  } catch (error) {
    throw invalid(`secret store ${options.file} cannot be read as JSON`, error);
  }
  if (parsed.format !== FORMAT || (parsed.kdf?.name !== 'raw' && parsed.kdf?.name !== 'scrypt')) {
    throw invalid(`secret store ${options.file} is not a ${FORMAT} file`);
  }
  const key = await deriveKey(options.keyFile, parsed.kdf);
  let secrets: Map<string, string>;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parsed.iv, 'base64'));
    decipher.setAAD(additionalData(parsed));
    decipher.setAuthTag(Buffer.from(parsed.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(parsed.data, 'base64')), decipher.final()]);
    secrets = new Map(Object.entries(JSON.parse(plain.toString('utf8')) as Record<string, string>));
    plain.fill(0);
  } catch (error) {
    throw invalid(`secret store ${options.file} did not decrypt: wrong key, or the file was altered`, error);
  } finally {
    key.fill(0);
  }
  for (const [name, value] of secrets) checkSecret(name, value);
  return {
    async get(name) {
      const value = secrets.get(name);
      if (value === undefined)
        throw new PaddockError('PDK_SECRET_NOT_FOUND', `secret "${name}" is not in the secret store`);
      return value;
    },
  };
}

/** Values go into HTTP headers: no control characters (header injection), not empty, bounded. */
function checkSecret(name: string, value: string): void {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    Buffer.byteLength(value) > MAX_SECRET_BYTES ||
    /[\x00-\x1f\x7f]/.test(value)
  ) {
    throw invalid(
      `secret "${name}" is empty, longer than ${MAX_SECRET_BYTES} bytes, or holds control characters`,
    );
  }
}

/**
 * Writes (replaces) an encrypted secret file with `secrets`. The kdf follows the key file:
 * 32 bytes → raw, anything else → scrypt passphrase. The file is written mode 0600.
 */
export async function writeEncryptedFileSecretStore(
  options: EncryptedFileSecretStoreOptions & { readonly secrets: Readonly<Record<string, string>> },
): Promise<void> {
  for (const [name, value] of Object.entries(options.secrets)) checkSecret(name, value);
  const material = await readFile(options.keyFile);
  const kdf: Kdf =
    material.length === 32 ? { name: 'raw' } : { name: 'scrypt', salt: randomBytes(16).toString('base64') };
  const key = await deriveKey(options.keyFile, kdf);
  const iv = randomBytes(12);
  const header = { format: FORMAT, kdf } as const;
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(additionalData(header));
  const data = Buffer.concat([cipher.update(JSON.stringify(options.secrets), 'utf8'), cipher.final()]);
  key.fill(0);
  const file: StoreFile = {
    ...header,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
  await writeFile(options.file, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
}
