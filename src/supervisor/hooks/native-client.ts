import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PaddockError } from '../../core/errors.ts';
import { NATIVE_BUILD_DIR } from '../sandbox/native-binaries.ts';

// The native hook client (native/paddock-hook.c) is built on first use when missing or older
// than its source, next to the sandbox's helpers in <repo>/.paddock/native (gitignored), with
// the same hardening flags. The launcher binds the binary read-only into the sandbox and the
// managed settings name it (`clientPath`).

const SOURCE = join(import.meta.dirname, 'native', 'paddock-hook.c');
const FLAGS = ['-O2', '-Wall', '-Wextra', '-Werror', '-D_FORTIFY_SOURCE=2', '-fstack-protector-strong'];

/**
 * Builds the native hook client into `outDir` if needed and returns its path.
 * @throws PaddockError PDK_HOOK_CLIENT_BUILD when the C compiler fails
 * @example const client = ensureHookClient(); // <repo>/.paddock/native/paddock-hook
 */
export function ensureHookClient(outDir: string = NATIVE_BUILD_DIR): string {
  const binary = join(outDir, 'paddock-hook');
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(SOURCE).mtimeMs) return binary;
  // Build to a temporary name and rename: a concurrent hook never runs a half-written binary.
  const temporary = join(outDir, `.paddock-hook.${process.pid}`);
  try {
    mkdirSync(outDir, { recursive: true, mode: 0o755 });
    execFileSync('cc', [...FLAGS, '-o', temporary, SOURCE], { stdio: ['ignore', 'pipe', 'pipe'] });
    chmodSync(temporary, 0o755);
    renameSync(temporary, binary);
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    throw new PaddockError(
      'PDK_HOOK_CLIENT_BUILD',
      `building the native hook client failed: ${stderr || (error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return binary;
}
