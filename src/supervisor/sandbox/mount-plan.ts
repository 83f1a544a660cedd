import { join, relative } from 'node:path';
import { PaddockError } from '../../core/errors.ts';
import type { GitScan, GitScanExhausted } from './git-scan.ts';
import type { HostProbe } from './host-probe.ts';
import {
  nestedGitEntries,
  type ProtectedEntry,
  type ProtectedPlan,
  protectedEntries,
} from './protected-paths.ts';
import { type DataScope, SANDBOX_PATHS } from './sandbox-types.ts';
import { ETC_ENTRIES, PRIVATE_TMPFS, SYSTEM_DIRS } from './system-view.ts';

// Turns a blueprint's dataScope into the ordered list of mounts the sandbox gets, plus the
// matching Landlock rules. Pure apart from the injected probe, so tests can check every rule.
//
// Paths under /workspace live in the caller's --workdir, which the unprivileged sandbox uid may
// not be able to traverse (a 0700 home): those are bound from file descriptors the privileged
// launcher opens (`fd: true`). Every other path is bound by path, as the sandbox uid sees it.

export type Mount =
  | {
      readonly kind: 'bind';
      readonly host: string;
      readonly dest: string;
      readonly writable: boolean;
      readonly fd: boolean;
      readonly optional?: boolean;
    }
  | { readonly kind: 'symlink'; readonly target: string; readonly dest: string }
  | { readonly kind: 'tmpfs'; readonly dest: string; readonly readOnly: boolean }
  | { readonly kind: 'proc'; readonly dest: string }
  | { readonly kind: 'dev'; readonly dest: string }
  | { readonly kind: 'remount-ro'; readonly dest: string };

export interface MountPlanInput {
  readonly dataScope: DataScope;
  /** The host directory shown as /workspace; must be a real path (no symlinks). */
  readonly workdir: string;
  readonly probe: HostProbe;
  /** The host's /etc mirror (etc-mirror.ts), bound read-only as /etc. */
  readonly etcMirror: string;
  /** A root-owned empty file, bound over hidden files. */
  readonly emptyFile: string;
  /** Host path of the supervisor's CA bundle, when there is one. */
  readonly caBundle?: string;
  /** Host path of the supervisor's PDP socket, bound read-only at SANDBOX_PATHS.pdpSocket. */
  readonly pdpSocket?: string;
  /** Host paths that must never be writable (the blueprint file, the desired-state directory). */
  readonly policyPaths?: readonly string[];
  /**
   * Finds the git repositories beneath a writable scope's host root, not descending into `skip`
   * (git-scan.ts). Omitted: only each scope's top-level `.git` is protected (unit tests).
   */
  readonly scanGit?: (hostRoot: string, skip: readonly string[]) => GitScan;
}

/** One writable scope's repositories, as found at launch (the git hook report starts from it). */
export interface WritableScopeScan {
  readonly host: string;
  readonly dest: string;
  /** Host directories the scan did not enter: other scopes and hidden paths beneath this one. */
  readonly skip: readonly string[];
  readonly scan: GitScan;
}

export interface MountPlan {
  readonly mounts: Mount[];
  /** Paths the Landlock shim allows: read-only, read-write, and directory listing. */
  readonly landlock: {
    readonly readOnly: string[];
    readonly readWrite: string[];
    readonly listOnly: string[];
  };
  /** Host write roots whose owner's files are shown as the sandbox uid's (idmapped mounts). */
  readonly idmaps: { readonly host: string; readonly uid: number; readonly gid: number }[];
  /** Protected placeholders the launcher creates before the launch and removes after. */
  readonly placeholders: ProtectedEntry[];
  /** The repositories found beneath each writable scope (empty without `scanGit`). */
  readonly gitScans: WritableScopeScan[];
}

// Paths a scope may neither be, nor contain: the sandbox's own mounts and the host's system.
// /etc is the launcher's mirror (etc-mirror.ts); a read scope may name what the mirror holds.
const SANDBOX_OWNED = ['/proc', '/sys', '/dev', '/tmp', '/var/tmp', '/run', '/etc', SANDBOX_PATHS.home];
const NEVER_WRITABLE = [...SYSTEM_DIRS, '/etc', '/boot', '/root', '/var/lib', '/var/log', ...SANDBOX_OWNED];

const within = (path: string, root: string) =>
  path === root || path.startsWith(root === '/' ? '/' : `${root}/`);
const depth = (path: string) => path.split('/').length;

function scopeError(path: string, why: string): PaddockError {
  return new PaddockError('PDK_SANDBOX_SCOPE', `dataScope path ${path}: ${why}`);
}

/** Refuses scopes that would expose or widen the host instead of narrowing the sandbox. */
function checkScope(path: string, writable: boolean): void {
  if (path === '/')
    throw scopeError(path, 'the whole host filesystem is never a scope; name the directories');
  const forbidden = writable ? NEVER_WRITABLE : SANDBOX_OWNED;
  const hit = forbidden.find((root) => within(path, root) || within(root, path));
  if (hit)
    throw scopeError(
      path,
      `overlaps ${hit}, which the sandbox ${writable ? 'never makes writable' : 'provides itself'}`,
    );
}

const coveredBySystemView = (path: string) =>
  SYSTEM_DIRS.some((dir) => within(path, dir)) || ETC_ENTRIES.some((entry) => within(path, entry));

export function planMounts(input: MountPlanInput): MountPlan {
  const { probe, workdir } = input;
  const hostOf = (path: string) =>
    within(path, SANDBOX_PATHS.workspace) ? join(workdir, relative(SANDBOX_PATHS.workspace, path)) : path;
  const inWorkspace = (path: string) => within(path, SANDBOX_PATHS.workspace);
  const mounts: Mount[] = [];
  const landlock = { readOnly: [] as string[], readWrite: [] as string[], listOnly: ['/'] };

  for (const dir of SYSTEM_DIRS) {
    const info = probe(dir);
    if (info.kind === 'symlink')
      mounts.push({ kind: 'symlink', target: info.target ?? `usr${dir}`, dest: dir });
    else if (info.kind === 'dir') {
      mounts.push({ kind: 'bind', host: dir, dest: dir, writable: false, fd: false });
      landlock.readOnly.push(dir);
    }
  }
  mounts.push({ kind: 'bind', host: input.etcMirror, dest: '/etc', writable: false, fd: false });

  // Scopes, shallow first so a nested scope lands on top of its parent. Write wins over read.
  const write = [...new Set(input.dataScope.write)];
  const read = [...new Set(input.dataScope.read)].filter(
    (path) => !write.includes(path) && !coveredBySystemView(path),
  );
  for (const path of write) checkScope(path, true);
  for (const path of read) checkScope(path, false);
  const scopes = [
    ...read.map((path) => ({ path, writable: false })),
    ...write.map((path) => ({ path, writable: true })),
  ].sort((a, b) => depth(a.path) - depth(b.path));
  // /workspace always exists (it is the working directory): without a scope of its own it is an
  // empty read-only directory holding only the nested scopes.
  const workspaceIsScope = scopes.some((scope) => scope.path === SANDBOX_PATHS.workspace);
  if (!workspaceIsScope) mounts.push({ kind: 'tmpfs', dest: SANDBOX_PATHS.workspace, readOnly: false });
  const idmaps: MountPlan['idmaps'] = [];
  for (const { path, writable } of scopes) {
    const host = hostOf(path);
    const info = probe(host);
    if (inWorkspace(path)) checkNoSymlinks(probe, workdir, host, path);
    if (info.kind === 'missing') {
      if (writable)
        throw scopeError(path, `is writable but ${host} does not exist on the host; create it first`);
      continue;
    }
    if (info.kind === 'symlink') throw scopeError(path, `${host} is a symlink; name its target instead`);
    mounts.push({ kind: 'bind', host, dest: path, writable, fd: inWorkspace(path) });
    (writable ? landlock.readWrite : landlock.readOnly).push(path);
    if ((inWorkspace(path) || writable) && info.uid > 0 && !idmaps.some((m) => within(host, m.host)))
      idmaps.push({ host, uid: info.uid, gid: info.gid });
  }

  mounts.push({ kind: 'proc', dest: '/proc' }, { kind: 'dev', dest: '/dev' });
  for (const dir of [...PRIVATE_TMPFS, SANDBOX_PATHS.home])
    mounts.push({ kind: 'tmpfs', dest: dir, readOnly: false });
  mounts.push({ kind: 'symlink', target: '/tmp', dest: '/var/tmp' });
  landlock.readOnly.push('/etc', '/proc');
  landlock.readWrite.push('/dev', ...PRIVATE_TMPFS, SANDBOX_PATHS.home);

  // Protected paths beneath every writable scope: its top-level names, then every repository
  // nested in it (the scan stops at other scopes and hidden paths, which are mounted over).
  const placeholders: ProtectedEntry[] = [];
  const gitScans: WritableScopeScan[] = [];
  const mountProtected = (plan: ProtectedPlan, fd: boolean) => {
    if (plan.symlinks.length > 0) {
      throw new PaddockError(
        'PDK_SANDBOX_SCOPE',
        `protected path ${plan.symlinks[0]} is a symlink; remove it before the launch`,
      );
    }
    for (const entry of plan.pinned)
      mounts.push({ kind: 'bind', host: entry.host, dest: entry.dest, writable: true, fd });
    for (const entry of plan.readOnly) {
      if (entry.create) placeholders.push(entry);
      mounts.push({ kind: 'bind', host: entry.host, dest: entry.dest, writable: false, fd });
    }
  };
  const beneath = (root: string, paths: readonly string[]) =>
    paths.map(hostOf).filter((host) => host !== root && within(host, root));
  for (const { path, writable } of scopes) {
    if (!writable) continue;
    const host = hostOf(path);
    mountProtected(protectedEntries(probe, host, path), inWorkspace(path));
    if (!input.scanGit) continue;
    const skip = beneath(host, [...scopes.map((scope) => scope.path), ...input.dataScope.deny]);
    const scan = input.scanGit(host, skip);
    if (scan.exhausted) throw gitScanLimitError(scan.exhausted, (at) => join(path, relative(host, at)));
    gitScans.push({ host, dest: path, skip, scan });
    mountProtected(nestedGitEntries(probe, scan, host, path), inWorkspace(path));
  }
  for (const policyPath of input.policyPaths ?? []) {
    for (const { path, writable } of scopes) {
      const host = hostOf(path);
      if (!writable || !within(policyPath, host) || probe(policyPath).kind === 'missing') continue;
      const dest = join(path, relative(host, policyPath));
      mounts.push({ kind: 'bind', host: policyPath, dest, writable: false, fd: inWorkspace(path) });
    }
  }

  // Hidden paths last, so nothing mounted above can uncover them.
  for (const path of new Set(input.dataScope.deny)) {
    const info = probe(hostOf(path));
    if (info.kind === 'dir') mounts.push({ kind: 'tmpfs', dest: path, readOnly: true });
    else if (info.kind !== 'missing')
      mounts.push({ kind: 'bind', host: input.emptyFile, dest: path, writable: false, fd: false });
  }

  if (!workspaceIsScope) mounts.push({ kind: 'remount-ro', dest: SANDBOX_PATHS.workspace });
  if (input.caBundle)
    mounts.push({
      kind: 'bind',
      host: input.caBundle,
      dest: SANDBOX_PATHS.caBundle,
      writable: false,
      fd: false,
    });
  if (input.pdpSocket) {
    // Read-only still lets the agent connect (a mount's ro flag does not apply to sockets) but
    // not remove or replace the socket. Landlock has no right for connecting to a path socket.
    mounts.push({
      kind: 'bind',
      host: input.pdpSocket,
      dest: SANDBOX_PATHS.pdpSocket,
      writable: false,
      fd: false,
    });
  }
  mounts.push({ kind: 'remount-ro', dest: '/' });
  return { mounts, landlock, idmaps, placeholders, gitScans };
}

/** Fails closed: a repository beyond the scan's bounds could not be protected. */
function gitScanLimitError(exhausted: GitScanExhausted, destOf: (host: string) => string): PaddockError {
  const what = {
    maxDepth: `directories nest deeper than ${exhausted.value} levels`,
    maxEntries: `the workspace has more than ${exhausted.value} directory entries to search`,
    maxRepositories: `there are more than ${exhausted.value} git repositories to protect`,
  }[exhausted.limit];
  return new PaddockError(
    'PDK_SANDBOX_GIT_SCAN_LIMIT',
    `cannot protect every git repository beneath the writable scope: ${what} (limit ${exhausted.limit} reached at ${destOf(exhausted.path)}); narrow dataScope.write to the directories the agent must change`,
    { details: { limit: exhausted.limit, value: exhausted.value, path: destOf(exhausted.path) } },
  );
}

/** A workspace scope must not pass through a symlink the agent may have planted in an earlier run. */
function checkNoSymlinks(probe: HostProbe, workdir: string, host: string, path: string): void {
  let current = workdir;
  for (const part of relative(workdir, host).split('/').filter(Boolean)) {
    current = join(current, part);
    const kind = probe(current).kind;
    if (kind === 'symlink') throw scopeError(path, `${current} is a symlink; a scope never follows one`);
    if (kind === 'missing') return;
  }
}
