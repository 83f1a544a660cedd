import { closeSync, constants, lstatSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  type GitScan,
  type GitScanExhausted,
  type GitScanLimits,
  rememberStamps,
  scanGitRepositories,
} from './git-scan.ts';
import type { WritableScopeScan } from './mount-plan.ts';

// What protects the HOST user from git hooks the agent writes. Existing repositories have
// their hooks and config mounted read-only, but a repository the agent creates during the run
// (git init, git clone, or a copy of a checkout moved aside) is agent-authored: its
// `.git/hooks/*` and its config (core.hooksPath, core.fsmonitor, filters, aliases with "!")
// run as the user the next time they use git there on the host. No mount can protect a
// repository that does not exist yet, and configuring git inside the sandbox (core.hooksPath)
// changes nothing for the user's own git later. So the supervisor compares the hook files,
// the code-running config and the `.git` pointers of every repository beneath the writable
// scopes before and after the run, and reports what is new or changed as a Detection Finding
// (sandbox-audit.ts); `paddock run` also warns on stderr. The user inspects before using git.
//
// Files are compared by inode, size, ctime and mode: the agent can set a file's mtime, never
// its ctime. Runs as root over agent-written directories, so nothing here follows a symlink.

/** Limits of the scan after the run: detection only, so more repositories than at launch. */
export const REPORT_SCAN_LIMITS: GitScanLimits = { maxDepth: 32, maxEntries: 200_000, maxRepositories: 1000 };

/**
 * Config keys whose value is a command (or leads to one) when the user runs git. Matched by key
 * name in any section, so it errs towards reporting: core.hooksPath, core.fsmonitor,
 * core.sshCommand, core.gitProxy, core.pager, core.editor, core.askPass, diff.external,
 * diff.<d>.command / textconv, filter.<f>.clean / smudge / process, merge.<d>.driver,
 * credential.helper, gpg.program, remote.<r>.uploadpack / receivepack, include(If).path, … and
 * any value starting with "!" (a shell alias).
 */
const CODE_RUNNING_CONFIG =
  /^\s*(hookspath|fsmonitor|sshcommand|gitproxy|pager|editor|askpass|external|textconv|command|cmd|driver|clean|smudge|process|helper|program|uploadpack|receivepack|alternaterefscommand|sendmailcmd|browser|path)\s*=|=\s*"?!/im;

/** Longest config read when looking for code-running keys. */
const MAX_CONFIG_BYTES = 256 * 1024;

export type GitHookKind = 'hook' | 'config' | 'pointer' | 'symlink';

interface Fingerprinted {
  readonly kind: GitHookKind;
  readonly dest: string;
  readonly fingerprint: string;
}

/** The hook-relevant files beneath the writable scopes at one moment, by host path. */
export interface GitHookSnapshot {
  readonly files: ReadonlyMap<string, Fingerprinted>;
  /** Set when the scan stopped early (a bound, an I/O error): what it did not reach is unchecked. */
  readonly incomplete?: { readonly reason: string; readonly dest: string };
}

/** One file a run wrote that will act when the user runs git on the host. */
export interface GitHookChange {
  /** Path on the host: what the user inspects. */
  readonly path: string;
  /** The same path inside the sandbox. */
  readonly dest: string;
  readonly kind: GitHookKind;
  readonly change: 'new' | 'changed';
}

export interface GitHookReport {
  readonly changes: readonly GitHookChange[];
  readonly incomplete?: GitHookSnapshot['incomplete'];
}

function fingerprint(path: string): string | undefined {
  try {
    const stat = lstatSync(path, { bigint: true });
    const target = stat.isSymbolicLink() ? `:${readlinkSync(path)}` : '';
    return `${stat.ino}:${stat.size}:${stat.ctimeNs}:${stat.mode}${target}`;
  } catch {
    return undefined;
  }
}

/** Snapshot of the repositories `scans` found (the launch's scan, or a fresh one). */
export function snapshotGitHooks(scans: readonly Omit<WritableScopeScan, 'skip'>[]): GitHookSnapshot {
  const files = new Map<string, Fingerprinted>();
  let incomplete: GitHookSnapshot['incomplete'];
  for (const { host, dest, scan } of scans) {
    const destOf = (path: string) => join(dest, relative(host, path));
    const add = (path: string, kind: GitHookKind) => {
      const print = fingerprint(path);
      if (print !== undefined) files.set(path, { kind, dest: destOf(path), fingerprint: print });
    };
    for (const gitDir of [...scan.dotGitDirs, ...scan.moduleGitDirs]) {
      add(join(gitDir, 'config'), 'config');
      const hooks = join(gitDir, 'hooks');
      add(hooks, 'hook'); // the directory itself: replaced by a symlink, or its entries changed
      if (!lstatSafe(hooks)?.isDirectory()) continue;
      // Git never runs *.sample: `git init` writes a dozen of them into every new repository.
      for (const name of readdirSync(hooks)) if (!name.endsWith('.sample')) add(join(hooks, name), 'hook');
    }
    for (const pointer of scan.pointerFiles) add(pointer, 'pointer');
    for (const link of scan.symlinks) add(link, 'symlink');
    if (scan.exhausted && !incomplete) incomplete = exhaustedAt(scan.exhausted, destOf(scan.exhausted.path));
  }
  return { files, incomplete };
}

function exhaustedAt(exhausted: GitScanExhausted, dest: string): GitHookSnapshot['incomplete'] {
  return { reason: `the scan stopped at its ${exhausted.limit} limit (${exhausted.value})`, dest };
}

function lstatSafe(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Scans the writable scopes again (after the run), re-reading only the directories that
 * changed since the launch's scan, and snapshots what it finds. Never throws: the command has
 * run, and its other audit events must still be written; a failure is reported instead. */
export function rescanGitHooks(scopes: readonly WritableScopeScan[]): GitHookSnapshot {
  try {
    let entriesSpent = 0;
    const scans = scopes.map(({ host, dest, skip, scan: atLaunch }) => {
      const scan: GitScan = scanGitRepositories(host, {
        skip,
        limits: REPORT_SCAN_LIMITS,
        entriesSpent,
        previous: atLaunch.stamps,
      });
      if (!scan.exhausted) rememberStamps(host, scan.stamps);
      entriesSpent = scan.entries;
      return { host, dest, scan };
    });
    return snapshotGitHooks(scans);
  } catch (error) {
    const reason = `the scan failed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    return { files: new Map(), incomplete: { reason, dest: scopes[0]?.dest ?? '/' } };
  }
}

/** Whether a git config file names a command git would run (bounded read, never follows a link,
 * never blocks on a FIFO). What cannot be read is reported: it is not a config git wrote. */
function runsCode(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return true;
  }
  try {
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    return CODE_RUNNING_CONFIG.test(buffer.toString('utf8', 0, length));
  } catch {
    return true; // a directory or device named config
  } finally {
    closeSync(fd);
  }
}

/**
 * What the run wrote: hook files, `.git` pointers and symlinks that are new or changed, and
 * config files new or changed that name a command. A `hooks` directory that merely appeared
 * (git init) is not itself a change worth reporting; the hooks in it are.
 */
export function gitHookChanges(before: GitHookSnapshot, after: GitHookSnapshot): GitHookReport {
  const changes: GitHookChange[] = [];
  for (const [path, now] of after.files) {
    const then = before.files.get(path);
    if (then?.fingerprint === now.fingerprint) continue;
    const isHooksDir = now.kind === 'hook' && path.endsWith('/hooks') && lstatSafe(path)?.isDirectory();
    if (isHooksDir) continue;
    // A config redirected by a symlink is reported whatever it says; a file, when it runs code.
    if (now.kind === 'config' && !lstatSafe(path)?.isSymbolicLink() && !runsCode(path)) continue;
    changes.push({ path, dest: now.dest, kind: now.kind, change: then ? 'changed' : 'new' });
  }
  changes.sort((a, b) => a.path.localeCompare(b.path));
  return { changes, incomplete: after.incomplete };
}
