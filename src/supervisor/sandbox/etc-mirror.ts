import {
  chmodSync,
  copyFileSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { join, relative } from 'node:path';

// The sandbox's /etc is one read-only bind of a root-owned mirror directory, not a bind per
// file: every bind costs bubblewrap a mount and a scan of the mount table, and a dozen /etc
// binds would double the launch time. The mirror holds copies of the allowlisted host entries
// (symlinks stay symlinks; they resolve inside the sandbox, mostly into /usr) plus the files the
// launcher writes itself. It is refreshed when a source's mtime or size changes, so a package
// update that rewrites ld.so.cache or the CA bundle reaches the next sandbox.

/** Beneath mirrored directories, entries never copied: private keys. */
export const MIRROR_EXCLUDED = ['/etc/ssl/private'] as const;

interface Stamp {
  readonly mtimeMs: number;
  readonly size: number;
}

// Per mirror directory: source path -> stamp of what was copied. A fresh process re-checks the
// destination instead, so a restart never trusts a half-finished mirror.
const synced = new Map<string, Map<string, Stamp>>();

// Whole milliseconds: utimes() through a Date keeps only those, so finer digits never match.
const same = (a: Stamp | undefined, b: Stamp) =>
  a !== undefined && Math.floor(a.mtimeMs) === Math.floor(b.mtimeMs) && a.size === b.size;

function statOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Replaces `dest` with a copy of `source` (file, symlink or directory tree), atomically per entry. */
function copyEntry(source: string, dest: string, excluded: readonly string[]): void {
  const stat = lstatSync(source);
  if (excluded.includes(source)) return;
  const temporary = `${dest}.paddock-${process.pid}`;
  rmSync(temporary, { recursive: true, force: true });
  if (stat.isSymbolicLink()) {
    symlinkSync(readlinkSync(source), temporary);
    lutimesSync(temporary, stat.atime, stat.mtime);
  } else if (stat.isFile()) {
    copyFileSync(source, temporary);
    chmodSync(temporary, stat.mode & 0o755); // never setuid; group/other write dropped
    utimesSync(temporary, stat.atime, stat.mtime);
  } else if (stat.isDirectory()) {
    mkdirSync(temporary, { mode: 0o755 });
    for (const name of readdirSync(source)) copyEntry(join(source, name), join(temporary, name), excluded);
    utimesSync(temporary, stat.atime, stat.mtime);
  } else return; // sockets, fifos, devices: never mirrored
  rmSync(dest, { recursive: true, force: true });
  try {
    renameSync(temporary, dest);
  } catch (error) {
    // Another launcher refreshed the same entry meanwhile: its copy is as good as ours.
    rmSync(temporary, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
}

/** Stamp of an entry; for a directory its own mtime plus its children's, so an in-place edit is
 * seen. `source` names the host path, so excluded children are skipped on both sides. */
function stampOf(path: string, excluded: readonly string[], source: string = path): Stamp | undefined {
  const stat = statOrUndefined(path);
  if (!stat) return undefined;
  if (!stat.isDirectory()) return { mtimeMs: stat.mtimeMs, size: stat.size };
  let mtimeMs = Math.floor(stat.mtimeMs);
  let size = 0;
  for (const name of readdirSync(path)) {
    if (excluded.includes(join(source, name))) continue;
    const child = statOrUndefined(join(path, name));
    if (!child) continue;
    mtimeMs = Math.max(mtimeMs, Math.floor(child.mtimeMs));
    size += child.size + 1;
  }
  return { mtimeMs, size };
}

/**
 * Brings `mirrorDir` up to date with the host entries (absolute paths beneath `root`, /etc).
 * `excluded` (absolute) are never copied; default MIRROR_EXCLUDED.
 * @example syncEtcMirror('/run/paddock/etc', ['/etc/ld.so.cache', '/etc/ssl'])
 */
export function syncEtcMirror(
  mirrorDir: string,
  entries: readonly string[],
  options: { readonly root?: string; readonly excluded?: readonly string[] } = {},
): void {
  const root = options.root ?? '/etc';
  const excluded = options.excluded ?? MIRROR_EXCLUDED;
  mkdirSync(mirrorDir, { recursive: true, mode: 0o755 });
  let known = synced.get(mirrorDir);
  if (!known) {
    known = new Map();
    synced.set(mirrorDir, known);
  }
  for (const source of entries) {
    const dest = join(mirrorDir, relative(root, source));
    const stamp = stampOf(source, excluded);
    if (!stamp) {
      rmSync(dest, { recursive: true, force: true });
      known.delete(source);
      continue;
    }
    const copied = known.get(source) ?? stampOf(dest, excluded, source);
    if (same(copied, stamp) && statOrUndefined(dest)) {
      known.set(source, stamp);
      continue;
    }
    copyEntry(source, dest, excluded);
    known.set(source, stamp);
  }
}
