import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import { PaddockError } from '../errors.ts';

// A workspace's channel identity: an Ed25519 key pair made for the workspace. The control plane
// records only the public half (under its JWK thumbprint, the `kid`); the private half lives in
// a 0600 file the supervisor reads, outside the sandbox. To connect, the supervisor signs a
// credential: a JWT good for one connection (a fresh `jti`) and at most CREDENTIAL_LIFETIME_S.

/** The `aud` of every channel credential. */
export const CHANNEL_AUDIENCE = 'paddock-channel';
/** Longest lifetime the control plane accepts for a credential (exp − iat). */
export const CREDENTIAL_LIFETIME_S = 60;

export interface WorkspaceIdentity {
  readonly workspaceId: string;
  /** RFC 7638 thumbprint of the public key. */
  readonly kid: string;
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
}

export interface PublicIdentity {
  readonly workspaceId: string;
  readonly kid: string;
  /** SPKI PEM. */
  readonly publicKeyPem: string;
}

/** The RFC 7638 thumbprint of an Ed25519 public key. */
export async function keyId(publicKey: KeyObject): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(publicKey), 'sha256');
}

/** A new key pair for `workspaceId`: the private identity (for the supervisor) and its public half (for the control plane). */
export async function generateIdentity(
  workspaceId: string,
): Promise<{ identity: WorkspaceIdentity; publicIdentity: PublicIdentity }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = await keyId(publicKey);
  return {
    identity: {
      workspaceId,
      kid,
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    },
    publicIdentity: {
      workspaceId,
      kid,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    },
  };
}

/** The public half of an identity. */
export async function publicIdentityOf(identity: WorkspaceIdentity): Promise<PublicIdentity> {
  const publicKey = createPublicKey(createPrivateKey(identity.privateKeyPem));
  return {
    workspaceId: identity.workspaceId,
    kid: await keyId(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

/**
 * A one-connection credential: EdDSA JWT with iss = sub = the workspace id, aud
 * CHANNEL_AUDIENCE, a random jti and a lifetime of `lifetimeS` seconds (default 60).
 */
export async function signChannelCredential(
  identity: WorkspaceIdentity,
  options: { readonly nowS?: number; readonly lifetimeS?: number; readonly jti?: string } = {},
): Promise<string> {
  const now = options.nowS ?? Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', kid: identity.kid, typ: 'JWT' })
    .setIssuer(identity.workspaceId)
    .setSubject(identity.workspaceId)
    .setAudience(CHANNEL_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.lifetimeS ?? CREDENTIAL_LIFETIME_S))
    .setJti(options.jti ?? randomUUID())
    .sign(createPrivateKey(identity.privateKeyPem));
}

/** Writes the identity file atomically with mode 0600 (a reader never sees half a key). */
export function writeIdentityFile(path: string, identity: WorkspaceIdentity): void {
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(identity)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

/** Reads an identity file; PDK_CHANNEL_UNAUTHENTICATED when it is missing or not an identity. */
export function readIdentityFile(path: string): WorkspaceIdentity {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new PaddockError(
      'PDK_CHANNEL_UNAUTHENTICATED',
      `identity file ${path} is unreadable: ${(error as Error).message}`,
    );
  }
  const record = value as Partial<WorkspaceIdentity>;
  if (
    typeof record.workspaceId !== 'string' ||
    typeof record.kid !== 'string' ||
    typeof record.privateKeyPem !== 'string'
  )
    throw new PaddockError(
      'PDK_CHANNEL_UNAUTHENTICATED',
      `identity file ${path} is not a workspace identity`,
    );
  return { workspaceId: record.workspaceId, kid: record.kid, privateKeyPem: record.privateKeyPem };
}
