import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caBundlePem } from './ca-bundle.ts';

// The host-side directory of one standalone run: the CA bundle the sandbox trusts and the PDP
// socket it asks. Both are bind-mounted by bubblewrap, which resolves the host paths as the
// sandbox's uid, so the directories are traversable (0755) while the files are not writable by
// it: the bundle is root-owned 0644, the socket is owned by the sandbox uid 0600 (pdp-server.ts).

export interface RunDir {
  readonly path: string;
  /** Host path of the CA bundle: system CAs, then the workspace CA. */
  readonly caBundle: string;
  /** Host path of the PDP socket (not yet created). */
  readonly pdpSocket: string;
  remove(): void;
}

/**
 * Creates `<stateDir>/standalone/<random>/` with `ca-bundle.pem` in it (ca-bundle.ts: the
 * system CAs, then the workspace CA).
 */
export function createRunDir(stateDir: string, caCertPem: string): RunDir {
  const parent = join(stateDir, 'standalone');
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  chmodSync(parent, 0o755);
  const path = mkdtempSync(join(parent, 'run-'));
  chmodSync(path, 0o755);
  const caBundle = join(path, 'ca-bundle.pem');
  writeFileSync(caBundle, caBundlePem(caCertPem), { mode: 0o644 });
  return {
    path,
    caBundle,
    pdpSocket: join(path, 'pdp.sock'),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}
