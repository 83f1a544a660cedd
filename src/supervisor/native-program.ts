import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type ErrorCode, PaddockError } from '../core/errors.ts';
import { NATIVE_BUILD_DIR } from './sandbox/native-binaries.ts';

// The supervisor's single-file C programs (the hook client, the egress relay) are built on
// first use when missing or older than their source, next to the sandbox's helpers in
// <repo>/.paddock/native (gitignored): binaries are never committed.

const FLAGS = ['-O2', '-Wall', '-Wextra', '-Werror', '-D_FORTIFY_SOURCE=2', '-fstack-protector-strong'];

export interface NativeProgram {
  /** The binary's file name. */
  readonly name: string;
  /** The one C source file it is built from. */
  readonly source: string;
  /** Raised, quoting the compiler's output, when the build fails. */
  readonly buildError: ErrorCode;
  /** What the program is, for the error message: "the native hook client". */
  readonly description: string;
}

/**
 * Builds `program` into `outDir` if needed and returns the binary's path.
 * @example ensureNativeProgram(RELAY) // <repo>/.paddock/native/paddock-relay
 */
export function ensureNativeProgram(program: NativeProgram, outDir: string = NATIVE_BUILD_DIR): string {
  const binary = join(outDir, program.name);
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(program.source).mtimeMs) return binary;
  // Build to a temporary name and rename: a concurrent user never runs a half-written binary.
  const temporary = join(outDir, `.${program.name}.${process.pid}`);
  try {
    mkdirSync(outDir, { recursive: true, mode: 0o755 });
    execFileSync('cc', [...FLAGS, '-o', temporary, program.source], { stdio: ['ignore', 'pipe', 'pipe'] });
    chmodSync(temporary, 0o755);
    renameSync(temporary, binary);
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    throw new PaddockError(
      program.buildError,
      `building ${program.description} failed: ${stderr || (error as Error).message}`,
      { cause: error },
    );
  }
  return binary;
}
