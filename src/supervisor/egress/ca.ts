import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  X509Certificate,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { type Clock, PaddockError, systemClock } from '../../core/index.ts';
import { buildCertificate, certificatePem } from './x509.ts';

// The per-workspace CA that inspected (L7) connections terminate TLS with. Its private key
// lives only in the supervisor's directory (mode 0600 in a 0700 directory), never inside
// the sandbox; the sandbox gets the certificate alone (`certPem`, mounted at the path the
// CA variables name). Leaf certificates are issued per server name on first use (about
// 1.5 ms: an ECDSA P-256 key and one signature) and cached.

const DAY_MS = 86_400_000;
/** CA lifetime. The CA is per workspace, so it is replaced with the workspace. */
const CA_LIFETIME_MS = 3650 * DAY_MS;
/** Leaf lifetime; leaves are re-issued when less than a day remains. */
const LEAF_LIFETIME_MS = 7 * DAY_MS;
/** Cached leaves; the least recently used is dropped beyond this. */
const MAX_CACHED_LEAVES = 1024;

export interface WorkspaceCa {
  /** The CA certificate (PEM) for the sandbox's trust store. Public. */
  readonly certPem: string;
  /** A TLS server context with a leaf for `host` (normalized name or IP literal), issued or cached. */
  secureContextFor(host: string): SecureContext;
}

export interface WorkspaceCaOptions {
  /** Names the CA, e.g. the workspace id. */
  readonly commonName: string;
  readonly clock?: Clock;
}

/**
 * Loads the CA from `dir` (ca.key, ca.pem), creating both when neither exists. A directory
 * holding one without the other, or a key that does not match the certificate, is an error
 * (PDK_EGRESS_CA), never silently replaced: sandboxes trust the existing certificate.
 */
export function loadOrCreateWorkspaceCa(dir: string, options: WorkspaceCaOptions): WorkspaceCa {
  const keyPath = join(dir, 'ca.key');
  const certPath = join(dir, 'ca.pem');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    if (!existsSync(keyPath) && !existsSync(certPath)) {
      const created = createCa(options);
      writeFileSync(keyPath, created.key.export({ type: 'pkcs8', format: 'pem' }), {
        mode: 0o600,
        flag: 'wx',
      });
      writeFileSync(certPath, created.certPem, { mode: 0o644, flag: 'wx' });
    }
    const key = createPrivateKey(readFileSync(keyPath));
    const certPem = readFileSync(certPath, 'utf8');
    if (!new X509Certificate(certPem).checkPrivateKey(key)) throw new Error('ca.key does not match ca.pem');
    return workspaceCa(key, certPem, options.clock ?? systemClock);
  } catch (error) {
    throw new PaddockError(
      'PDK_EGRESS_CA',
      `workspace CA in ${dir} could not be loaded or created: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** A CA that exists only in memory (tests, or `paddock run` without a data directory). */
export function createEphemeralWorkspaceCa(options: WorkspaceCaOptions): WorkspaceCa {
  const created = createCa(options);
  return workspaceCa(created.key, created.certPem, options.clock ?? systemClock);
}

function createCa(options: WorkspaceCaOptions): { key: KeyObject; certPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = (options.clock ?? systemClock).now();
  const name = `Paddock workspace CA ${options.commonName}`;
  const der = buildCertificate({
    subject: name,
    issuer: name,
    publicKey,
    signingKey: privateKey,
    issuerPublicKey: publicKey,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + CA_LIFETIME_MS),
    kind: { ca: true },
  });
  return { key: privateKey, certPem: certificatePem(der) };
}

function workspaceCa(caKey: KeyObject, certPem: string, clock: Clock): WorkspaceCa {
  const caCert = new X509Certificate(certPem);
  const caPublicKey = createPublicKey(caKey);
  const caNotAfter = Date.parse(caCert.validTo);
  const cache = new Map<string, { context: SecureContext; notAfter: number }>();
  return {
    certPem,
    secureContextFor(host) {
      const now = clock.now();
      const cached = cache.get(host);
      if (cached && cached.notAfter - now > DAY_MS) {
        cache.delete(host);
        cache.set(host, cached);
        return cached.context;
      }
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const notAfter = Math.min(now + LEAF_LIFETIME_MS, caNotAfter);
      const der = buildCertificate({
        subject: host,
        issuer:
          caCert.subject
            .split('\n')
            .find((line) => line.startsWith('CN='))
            ?.slice(3) ?? 'Paddock workspace CA',
        publicKey,
        signingKey: caKey,
        issuerPublicKey: caPublicKey,
        notBefore: new Date(now - 3_600_000),
        notAfter: new Date(notAfter),
        kind: { ca: false, host },
      });
      const context = createSecureContext({
        key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
        cert: certificatePem(der),
        minVersion: 'TLSv1.2',
      });
      cache.set(host, { context, notAfter });
      if (cache.size > MAX_CACHED_LEAVES) cache.delete(cache.keys().next().value!);
      return context;
    },
  };
}
