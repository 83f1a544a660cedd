import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { Key } from '@tufjs/models';
import { PaddockError } from '../../core/index.ts';
import { createSecretFileOnce, readSecretFile } from '../../core/secret-file.ts';
import { canonicalJson } from '../../policy/index.ts';

// Who signs release metadata. The release repository only sees this interface, so a key held
// in a KMS or an HSM is one more implementation (sign the bytes there, return the signature);
// the embedded default keeps Ed25519 keys as PEM files readable only by the control plane.
//
//   interface Signer { key: Key; sign(bytes: Uint8Array): Promise<Uint8Array> }
//   fileSigner(path, { groupReadable? }): Signer   an existing key file (PDK_RELEASE_KEY if missing, or readable by others)
//   ensureFileSigner(path): Signer      the key file, created (mode 0600) when missing
//   tufKey(publicKey): Key              the TUF key (ed25519, keyid = sha256 of its canonical JSON)

/** A release metadata signer. */
export interface Signer {
  /** The public key as TUF metadata lists it (its keyID names the signature). */
  readonly key: Key;
  /** Signs the canonical bytes of a `signed` section; returns the raw signature. */
  sign(bytes: Uint8Array): Promise<Uint8Array>;
}

/** The TUF key of an Ed25519 public key: keytype/scheme `ed25519`, public value hex, id per the spec. */
export function tufKey(publicKey: KeyObject): Key {
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const fields = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw.toString('hex') } };
  // Canonical JSON of ASCII-only fields is the same in every dialect, so the spec's keyid is this.
  const keyID = createHash('sha256').update(canonicalJson(fields)).digest('hex');
  return new Key({ keyID, keyType: 'ed25519', scheme: 'ed25519', keyVal: { public: raw.toString('hex') } });
}

/** A signer over an in-memory private key (tests and the file signer). */
export function keySigner(privateKey: KeyObject): Signer {
  const key = tufKey(createPublicKey(privateKey));
  return {
    key,
    sign: async (bytes) => new Uint8Array(sign(null, bytes, privateKey)),
  };
}

/**
 * The signer of an existing Ed25519 key file. Throws PDK_RELEASE_KEY when it is missing, not an
 * Ed25519 private key, or readable by group or others (a signing key must not be).
 * `groupReadable`: a key mounted from a Kubernetes Secret, which the kubelet makes readable by
 * the pod's fsGroup (only that pod's containers); still refused when others can read it.
 */
export function fileSigner(path: string, options: { readonly groupReadable?: boolean } = {}): Signer {
  const bytes = readSecretFile(path, options.groupReadable ? 'group' : 'owner', KEY_FILE);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(bytes);
  } catch (error) {
    throw new PaddockError('PDK_RELEASE_KEY', `signing key ${path} is not a PEM private key`, {
      cause: error,
    });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new PaddockError('PDK_RELEASE_KEY', `signing key ${path} is not an Ed25519 key`);
  return keySigner(privateKey);
}

const KEY_FILE = { code: 'PDK_RELEASE_KEY', what: 'signing key' } as const;

/** The signer of a key file, generating a new Ed25519 key (mode 0600, directory 0700) when there is none. */
export function ensureFileSigner(path: string): Signer {
  createSecretFileOnce(
    path,
    () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    KEY_FILE,
  );
  return fileSigner(path);
}
