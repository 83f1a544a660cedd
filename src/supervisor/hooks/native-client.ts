import { join } from 'node:path';
import { ensureNativeProgram } from '../native-program.ts';
import { NATIVE_BUILD_DIR } from '../sandbox/native-binaries.ts';

// The native hook client (native/paddock-hook.c). The launcher binds the binary read-only
// into the sandbox and the managed settings name it (`clientPath`).

const HOOK_CLIENT = {
  name: 'paddock-hook',
  source: join(import.meta.dirname, 'native', 'paddock-hook.c'),
  buildError: 'PDK_HOOK_CLIENT_BUILD',
  description: 'the native hook client',
} as const;

/**
 * Builds the native hook client into `outDir` if needed and returns its path.
 * @throws PaddockError PDK_HOOK_CLIENT_BUILD when the C compiler fails
 * @example const client = ensureHookClient(); // <repo>/.paddock/native/paddock-hook
 */
export function ensureHookClient(outDir: string = NATIVE_BUILD_DIR): string {
  return ensureNativeProgram(HOOK_CLIENT, outDir);
}
