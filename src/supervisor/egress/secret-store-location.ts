import { realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PaddockError } from '../../core/index.ts';
import type { EncryptedFileSecretStoreOptions } from './secret-store.ts';

// Where a secret store may not lie: anywhere the sandbox can read. A store (or its key) inside
// the sandbox's workdir or home would let the agent read the key and decrypt every secret the
// gateway injects. `paddock run` and the workspace supervisor both check here before opening.

/** A host directory the sandbox can read, and what to call it in the refusal (`--workdir`, `workdir`). */
export interface SandboxReadableDir {
  readonly label: string;
  readonly path: string;
}

/**
 * Throws PDK_SECRET_STORE_EXPOSED, naming the path, when the store file or its key file lies
 * in (or is) one of `dirs`. Symlinks are resolved on both sides, so a link outside pointing in
 * is refused too.
 * @example assertSecretStoreOutside({ file, keyFile }, [{ label: '--workdir', path: workdir }]);
 */
export function assertSecretStoreOutside(
  store: EncryptedFileSecretStoreOptions,
  dirs: readonly SandboxReadableDir[],
): void {
  for (const dir of dirs) {
    const root = realpathOr(dir.path);
    for (const candidate of [store.file, store.keyFile]) {
      const real = realpathOr(candidate);
      if (real === root || real.startsWith(`${root}/`)) {
        throw new PaddockError(
          'PDK_SECRET_STORE_EXPOSED',
          `${candidate} is inside ${dir.label} ${dir.path}, where the sandbox can read it; keep the secret store and its key outside`,
        );
      }
    }
  }
}

/** The real path; for a path that does not exist (yet), its nearest existing parent's, resolved. */
function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realpathOr(parent), basename(path));
  }
}
