import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';

// The host-side directory of one standalone run: the CA bundle the sandbox trusts and the PDP
// socket it asks. Both are bind-mounted by bubblewrap, which resolves the host paths as the
// sandbox's uid, so the directories are traversable (0755) while the files are not writable by
// it: the bundle is root-owned 0644, the socket is owned by the sandbox uid 0600 (pdp-server.ts).

/** Debian's system bundle; Node's own store stands in where it is missing. */
const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export interface RunDir {
  readonly path: string;
  /** Host path of the CA bundle: system CAs, then the workspace CA. */
  readonly caBundle: string;
  /** Host path of the PDP socket (not yet created). */
  readonly pdpSocket: string;
  remove(): void;
}

/**
 * Creates `<stateDir>/standalone/<random>/` with `ca-bundle.pem` in it. SSL_CERT_FILE replaces
 * OpenSSL's default store, so the bundle must hold the system CAs too, or every site the
 * gateway splices (not inspected) would fail verification inside the sandbox.
 */
export function createRunDir(stateDir: string, caCertPem: string): RunDir {
  const parent = join(stateDir, 'standalone');
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  chmodSync(parent, 0o755);
  const path = mkdtempSync(join(parent, 'run-'));
  chmodSync(path, 0o755);
  const system = existsSync(SYSTEM_BUNDLE)
    ? readFileSync(SYSTEM_BUNDLE, 'utf8')
    : `${rootCertificates.join('\n')}\n`;
  const caBundle = join(path, 'ca-bundle.pem');
  writeFileSync(caBundle, `${system.trimEnd()}\n${caCertPem.trimEnd()}\n`, { mode: 0o644 });
  return {
    path,
    caBundle,
    pdpSocket: join(path, 'pdp.sock'),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}
