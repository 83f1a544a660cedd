import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { PaddockError } from '../../core/errors.ts';
import { createSecretFileOnce, readSecretFile, type SecretReaders } from '../../core/secret-file.ts';

// The checkpoint signer. A small interface so that a KMS or HSM key can replace the file key
// without touching the checkpointer: it needs only a key id, the public key and sign().

/** Signs checkpoint bodies with Ed25519. */
export interface CheckpointSigner {
  /** Identifies the key in every checkpoint it signs (keyIdOf its public key). */
  readonly keyId: string;
  /** The public key in SPKI PEM: what verifiers need. */
  readonly publicKeyPem: string;
  /** An Ed25519 signature (64 bytes) over `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** A key id: `ed25519:` and the first 32 hex digits of the SHA-256 of the SPKI DER public key. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `ed25519:${createHash('sha256').update(der).digest('hex').slice(0, 32)}`;
}

/**
 * Reads an Ed25519 public key in SPKI PEM. Throws PDK_AUDIT_KEY when it is not one.
 * @example const key = publicKeyFromPem(readFileSync('audit-signing.pub.pem', 'utf8'));
 */
export function publicKeyFromPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new PaddockError(
      'PDK_AUDIT_KEY',
      `public key is not a PEM public key: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new PaddockError('PDK_AUDIT_KEY', `public key is ${key.asymmetricKeyType}, not Ed25519`);
  return key;
}

const KEY_FILE = { code: 'PDK_AUDIT_KEY', what: 'audit signing key' } as const;

/** Where the public key of a key file is written: `<file minus .pem>.pub.pem`. */
export function publicKeyPathFor(privateKeyPath: string): string {
  return `${privateKeyPath.replace(/\.pem$/, '')}.pub.pem`;
}

/**
 * The file-backed signer: reads the Ed25519 PKCS#8 PEM key at `path`, or generates one there
 * (mode 0600, created exclusively so two starting replicas cannot both write it) on first
 * start. Writes the public key beside it (publicKeyPathFor) for verifiers. Refuses
 * (PDK_AUDIT_KEY) a key file readable by group or others, or one that is not Ed25519.
 * @example const signer = openFileSigner(join(dataDir, 'audit', 'checkpoint-key.pem'));
 */
export function openFileSigner(path: string): CheckpointSigner {
  createSecretFileOnce(
    path,
    () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    KEY_FILE,
  );
  const privateKey = readPrivateKey(path, 'owner');
  const signer = signerOf(privateKey);
  const pubPath = publicKeyPathFor(path);
  let current: string | undefined;
  try {
    current = readFileSync(pubPath, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== signer.publicKeyPem) writeFileSync(pubPath, signer.publicKeyPem, { mode: 0o644 });
  return signer;
}

/**
 * The signer of a key provisioned by an operator (on a cluster, a Secret every replica mounts):
 * reads the Ed25519 PKCS#8 PEM key at `path` and never creates or writes anything, so all
 * replicas sign with one key. The public key beside it (publicKeyPathFor), when present, must be
 * that key's. Refuses (PDK_AUDIT_KEY) a missing or unreadable key, one readable by others (group
 * read is allowed: Kubernetes gives a Secret volume's files to the pod's fsGroup), a key that is
 * not Ed25519, and a public key file that does not match.
 * @example const signer = openProvisionedSigner('/etc/paddock/audit/checkpoint-key.pem');
 */
export function openProvisionedSigner(path: string): CheckpointSigner {
  const signer = signerOf(readPrivateKey(path, 'group'));
  let pem: string | undefined;
  try {
    pem = readFileSync(publicKeyPathFor(path), 'utf8');
  } catch {
    pem = undefined;
  }
  if (pem !== undefined && keyIdOf(publicKeyFromPem(pem)) !== signer.keyId)
    throw new PaddockError(
      'PDK_AUDIT_KEY',
      `the public key ${publicKeyPathFor(path)} is not the public key of ${path}: put the pair generated together in place`,
    );
  return signer;
}

/** The Ed25519 key at `path`, refused when anyone beyond `readers` can read it. */
function readPrivateKey(path: string, readers: SecretReaders): KeyObject {
  const text = readSecretFile(path, readers, KEY_FILE).toString('utf8');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text);
  } catch (error) {
    throw new PaddockError(
      'PDK_AUDIT_KEY',
      `audit signing key ${path} could not be read: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new PaddockError(
      'PDK_AUDIT_KEY',
      `audit signing key ${path} is ${privateKey.asymmetricKeyType}, not Ed25519`,
    );
  }
  return privateKey;
}

function signerOf(privateKey: KeyObject): CheckpointSigner {
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: async (data) => sign(null, data, privateKey),
  };
}
