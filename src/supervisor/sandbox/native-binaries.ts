import { execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PaddockError } from '../../core/errors.ts';

// The two C helpers (native/*.c) are built on first use when missing or older than their
// source, into <repo>/.paddock/native (gitignored): binaries are never committed.

const SOURCE_DIR = join(import.meta.dirname, 'native');
const REPO_ROOT = resolve(import.meta.dirname, '../../..');

/** Default build output; PADDOCK_NATIVE_DIR is not read: one place, so tests and setup agree. */
export const NATIVE_BUILD_DIR = join(REPO_ROOT, '.paddock', 'native');

export interface NativeBinaries {
  /** Runs as root: idmaps, fd opens, setns, rlimits, privilege drop, then execs bwrap. */
  readonly sandboxLaunch: string;
  /** Bound read-only into the sandbox: applies Landlock, closes fds, execs the command. */
  readonly landlockExec: string;
}

const NAMES = ['sandbox-launch', 'landlock-exec'] as const;

function isStale(binary: string, source: string): boolean {
  if (!existsSync(binary)) return true;
  return statSync(binary).mtimeMs < statSync(source).mtimeMs;
}

// Checked once per process and output directory: a running supervisor keeps the helpers it
// started with, as it keeps the rest of its code.
const ensured = new Map<string, NativeBinaries>();

/** Builds the helpers into `outDir` if needed and returns their paths. */
export function ensureNativeBinaries(outDir: string = NATIVE_BUILD_DIR): NativeBinaries {
  const known = ensured.get(outDir);
  if (known) return known;
  const binaries = buildIfStale(outDir);
  ensured.set(outDir, binaries);
  return binaries;
}

function buildIfStale(outDir: string): NativeBinaries {
  const stale = NAMES.some((name) => isStale(join(outDir, name), join(SOURCE_DIR, `${name}.c`)));
  if (stale) {
    try {
      execFileSync('sh', [join(SOURCE_DIR, 'build.sh'), outDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
      throw new PaddockError(
        'PDK_SANDBOX_NATIVE_BUILD',
        `building the sandbox helpers failed: ${stderr || (error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
  return { sandboxLaunch: join(outDir, 'sandbox-launch'), landlockExec: join(outDir, 'landlock-exec') };
}

/**
 * Copies the Landlock shim into the /etc mirror (etc/paddock/landlock-exec): a root-owned,
 * world-readable place the unprivileged sandbox uid can reach (the repository may live under a
 * 0700 home). Refreshed when the build changes.
 */
export function installLandlockExec(built: string, etcMirror: string): string {
  const binDir = join(etcMirror, 'paddock');
  const installed = join(binDir, 'landlock-exec');
  const fresh = existsSync(installed) && statSync(installed).mtimeMs >= statSync(built).mtimeMs;
  if (!fresh) {
    mkdirSync(binDir, { recursive: true, mode: 0o755 });
    const temporary = `${installed}.${process.pid}`;
    copyFileSync(built, temporary);
    chmodSync(temporary, 0o755);
    renameSync(temporary, installed);
  }
  return installed;
}
