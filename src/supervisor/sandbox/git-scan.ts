import { type BigIntStats, type Dirent, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// Finds the git repositories beneath a writable scope, so the launcher can protect the hooks
// and config of nested checkouts (`/workspace/vendor/lib/.git/hooks`), not only the top-level
// one, and the supervisor can tell afterwards which hooks the run wrote (git-hook-report.ts).
//
// The walk runs as root over directories an agent could write in an earlier run, so it never
// follows a symlink (a Dirent reports the link itself) and it is bounded: a depth limit, a
// budget of directory entries and a maximum number of repositories. What happens when a bound is
// hit is the caller's decision; the launcher fails closed (mount-plan.ts): protecting "as many
// as were found" would leave the next repository writable without anyone knowing, and a
// security boundary that silently gives up on large workspaces is not one. Nothing is
// skipped by name (node_modules included): a repository there runs its hooks just the same.
//
// Each directory's device, inode and ctime are recorded, so the scan after the run
// (git-hook-report.ts), and the next launch of the same workspace in this process, read again
// only the directories that changed: adding, removing or renaming an entry changes its
// directory's ctime, and no unprivileged process can set a ctime. A directory whose ctime
// was within STABLE_MARGIN_NS of the scan is read again regardless (ctime has coarse-clock
// granularity, so a change right after the read could otherwise keep the same value).
// Measured on this VM (docs/sandbox.md): ~35-50 ms to read 19,000 entries in 2,500 directories
// (syscalls dominate: a C walker takes ~27 ms), ~15 ms to re-check them after the run.

/** Bounds of one scan. Each has a default; see DEFAULT_GIT_SCAN_LIMITS. */
export interface GitScanLimits {
  /** Directory levels below the scope root that are read. Default 32. */
  readonly maxDepth: number;
  /** Directory entries read, over every scope of a launch. Default 200,000. */
  readonly maxEntries: number;
  /** `.git` directories, pointer files and submodule git directories found. Default 32. */
  readonly maxRepositories: number;
}

export const DEFAULT_GIT_SCAN_LIMITS: GitScanLimits = {
  maxDepth: 32,
  maxEntries: 200_000,
  // Each protected repository costs bubblewrap three mounts, and mounts get dearer as the
  // table grows (measured: 30 binds add ~5 ms, 100 add ~30 ms, 300 add ~200 ms).
  maxRepositories: 32,
};

/** A limit the scan ran into, with where. */
export interface GitScanExhausted {
  readonly limit: keyof GitScanLimits;
  readonly value: number;
  /** The directory being read when it ran out. */
  readonly path: string;
}

/** What one directory held, and its identity when it was read. */
export interface DirStamp {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly ctimeNs: bigint;
  /** Whether the ctime was old enough at the read that any later change must alter it. */
  readonly stable: boolean;
  /** Entries it held (counted against the budget again when replayed). */
  readonly entries: number;
  /** Subdirectories to descend into, by name (`.git` and symlinks excluded). */
  readonly subdirs: readonly string[];
  /** What its `.git` entry was, if it had one. */
  readonly git?: 'dir' | 'file' | 'symlink';
}

export interface GitScan {
  /** `.git` directories, as host paths (a checkout's own, at any depth). */
  readonly dotGitDirs: string[];
  /** Submodule git directories inside a `.git` (`.git/modules/NAME`, nested too). */
  readonly moduleGitDirs: string[];
  /** `.git` files: the "gitdir: …" pointer of a worktree or submodule. */
  readonly pointerFiles: string[];
  /** Symlinks named `.git`. */
  readonly symlinks: string[];
  /** Directory entries read. */
  readonly entries: number;
  /** Set when a bound stopped the scan: what was found is then incomplete. */
  readonly exhausted?: GitScanExhausted;
  /** Every directory read, by host path: hand it to a later scan as `previous`. */
  readonly stamps: ReadonlyMap<string, DirStamp>;
}

export interface GitScanOptions {
  readonly limits?: GitScanLimits;
  /** Host directories not descended into (other scopes, hidden paths), besides symlinks. */
  readonly skip?: readonly string[];
  /** Entries already spent by earlier scans of the same launch (the budget is shared). */
  readonly entriesSpent?: number;
  /** An earlier scan's stamps: directories whose inode and ctime are unchanged are not read. */
  readonly previous?: ReadonlyMap<string, DirStamp>;
}

/** How far behind the scan's start a directory's ctime must be to count as stable (50 ms). */
const STABLE_MARGIN_NS = 50_000_000n;

class Exhausted extends Error {
  readonly detail: GitScanExhausted;
  constructor(detail: GitScanExhausted) {
    super(detail.limit);
    this.detail = detail;
  }
}

/**
 * Scans `root` (a host directory) for git repositories, bounded by `options.limits`.
 * @example scanGitRepositories('/home/alice/proj').dotGitDirs // ['/home/alice/proj/.git', '/home/alice/proj/vendor/lib/.git']
 */
export function scanGitRepositories(root: string, options: GitScanOptions = {}): GitScan {
  const limits = options.limits ?? DEFAULT_GIT_SCAN_LIMITS;
  const skip = new Set(options.skip ?? []);
  const scan = {
    dotGitDirs: [] as string[],
    moduleGitDirs: [] as string[],
    pointerFiles: [] as string[],
    symlinks: [] as string[],
    entries: options.entriesSpent ?? 0,
    stamps: new Map<string, DirStamp>(),
  };
  const stableBefore = BigInt(Date.now()) * 1_000_000n - STABLE_MARGIN_NS;
  const found = () => {
    const total = scan.dotGitDirs.length + scan.moduleGitDirs.length + scan.pointerFiles.length;
    if (total > limits.maxRepositories)
      throw new Exhausted({ limit: 'maxRepositories', value: limits.maxRepositories, path: root });
  };
  // One readdir per directory: reading entry by entry (opendir) measured 2-3 times slower.
  // The budget is checked per directory, so one directory may overshoot it before the scan stops.
  const eachEntry = (dir: string, visit: (entry: Dirent) => void) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      // Gone meanwhile, or not a directory after all: nothing there to protect.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw error;
    }
    scan.entries += entries.length;
    if (scan.entries > limits.maxEntries)
      throw new Exhausted({ limit: 'maxEntries', value: limits.maxEntries, path: dir });
    for (const entry of entries) visit(entry);
  };
  // Submodules keep their git directories in the superproject's `.git/modules/<path>`, nested
  // for nested submodules; each has hooks and config of its own. A git directory is told by
  // its HEAD file.
  const scanModules = (gitDir: string, depth: number) => {
    const modules = join(gitDir, 'modules');
    const walkModules = (dir: string, level: number) => {
      if (level > limits.maxDepth)
        throw new Exhausted({ limit: 'maxDepth', value: limits.maxDepth, path: dir });
      const children: string[] = [];
      let isGitDir = false;
      eachEntry(dir, (entry) => {
        if (entry.name === 'HEAD' && entry.isFile()) isGitDir = true;
        else if (entry.isDirectory()) children.push(entry.name);
      });
      if (isGitDir) {
        scan.moduleGitDirs.push(dir);
        found();
        if (children.includes('modules')) walkModules(join(dir, 'modules'), level + 1);
        return;
      }
      for (const name of children) walkModules(join(dir, name), level + 1);
    };
    walkModules(modules, depth + 1);
  };
  // A directory's listing: replayed from `previous` when its inode and ctime are unchanged.
  const list = (dir: string): DirStamp | undefined => {
    let stat: BigIntStats;
    try {
      stat = lstatSync(dir, { bigint: true });
    } catch {
      return undefined; // gone meanwhile
    }
    if (!stat.isDirectory()) return undefined; // replaced (by a symlink?) since its parent was read
    const known = options.previous?.get(dir);
    if (known?.stable && known.dev === stat.dev && known.ino === stat.ino && known.ctimeNs === stat.ctimeNs) {
      scan.entries += known.entries;
      if (scan.entries > limits.maxEntries)
        throw new Exhausted({ limit: 'maxEntries', value: limits.maxEntries, path: dir });
      return known;
    }
    const subdirs: string[] = [];
    let git: DirStamp['git'];
    let entries = 0;
    eachEntry(dir, (entry) => {
      entries++;
      if (entry.name === '.git')
        git = entry.isSymbolicLink()
          ? 'symlink'
          : entry.isDirectory()
            ? 'dir'
            : entry.isFile()
              ? 'file'
              : undefined;
      else if (entry.isDirectory()) subdirs.push(entry.name);
    });
    return {
      dev: stat.dev,
      ino: stat.ino,
      ctimeNs: stat.ctimeNs,
      stable: stat.ctimeNs < stableBefore,
      entries,
      subdirs,
      git,
    };
  };
  const walk = (dir: string, depth: number) => {
    const listing = list(dir);
    if (!listing) return;
    scan.stamps.set(dir, listing);
    if (listing.git !== undefined) {
      // objects, refs and logs hold no further checkouts: `.git` is never walked.
      const path = join(dir, '.git');
      if (listing.git === 'symlink') scan.symlinks.push(path);
      else if (listing.git === 'dir') {
        scan.dotGitDirs.push(path);
        found();
        scanModules(path, depth);
      } else {
        scan.pointerFiles.push(path);
        found();
      }
    }
    const subdirs = listing.subdirs.map((name) => join(dir, name)).filter((path) => !skip.has(path));
    if (subdirs.length > 0 && depth >= limits.maxDepth)
      throw new Exhausted({ limit: 'maxDepth', value: limits.maxDepth, path: subdirs[0]! });
    for (const subdir of subdirs) walk(subdir, depth + 1);
  };
  try {
    walk(root, 0);
  } catch (error) {
    if (!(error instanceof Exhausted)) throw error;
    return { ...scan, exhausted: error.detail };
  }
  return scan;
}

// The latest stamps of each scope root scanned in this process, so a supervisor that runs the
// same workspace again re-reads only what changed since (the CLI runs once and gains nothing).
// Bounded: the least recently scanned roots are forgotten.
const MAX_REMEMBERED_ROOTS = 16;
const remembered = new Map<string, ReadonlyMap<string, DirStamp>>();

/** Keeps `stamps` as the latest of `root`. */
export function rememberStamps(root: string, stamps: ReadonlyMap<string, DirStamp>): void {
  remembered.delete(root);
  remembered.set(root, stamps);
  if (remembered.size > MAX_REMEMBERED_ROOTS) remembered.delete(remembered.keys().next().value!);
}

/** The latest stamps of `root` this process recorded, for `previous`. */
export function rememberedStamps(root: string): ReadonlyMap<string, DirStamp> | undefined {
  return remembered.get(root);
}
