import { dirname, join, normalize, relative } from 'node:path';
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

/** One extra read-only bind: a host file or directory shown at a sandbox path. */
export interface ReadOnlyBind {
  /** Host path (file, directory or socket); it must exist at the launch. */
  readonly host: string;
  /** Absolute sandbox path; see checkReadOnlyBinds for where it may be. */
  readonly dest: string;
}

/**
 * Sandbox paths an extra bind may use although the sandbox owns their parent: the harness
 * settings files docs/hooks.md lists (managed settings and the pinned user-level files).
 */
export const HARNESS_SETTINGS_PATHS = [
  '/etc/claude-code',
  '/etc/codex',
  '/etc/gemini-cli',
  `${SANDBOX_PATHS.home}/.claude/settings.json`,
  `${SANDBOX_PATHS.home}/.gemini/settings.json`,
  `${SANDBOX_PATHS.home}/.profile`,
  `${SANDBOX_PATHS.home}/.bash_profile`,
  `${SANDBOX_PATHS.home}/.bash_login`,
] as const;

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
  /** Extra read-only binds (checkReadOnlyBinds), mounted after every scope. */
  readonly readOnlyBinds?: readonly ReadOnlyBind[];
  /**
   * Host directory shown as the writable HOME (a workspace's persistent home), its owner's
   * files shown as the sandbox uid's; it must exist and not be root's. Default: a private tmpfs.
   */
  readonly home?: string;
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
  const hit = forbidden.find(
    (root) => (within(path, root) || within(root, path)) && !(!writable && readableInPrivateTmp(path)),
  );
  if (hit)
    throw scopeError(
      path,
      `overlaps ${hit}, which the sandbox ${writable ? 'never makes writable' : 'provides itself'}`,
    );
}

// A host directory beneath /tmp may be shown read-only at the same path: it is bound into the
// sandbox's private /tmp after that tmpfs is mounted, so the rest of the host's /tmp stays out.
const readableInPrivateTmp = (path: string) => path !== '/tmp' && within(path, '/tmp');

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
  const mountScope = ({ path, writable }: { path: string; writable: boolean }) => {
    const host = hostOf(path);
    const info = probe(host);
    if (inWorkspace(path)) checkNoSymlinks(probe, workdir, host, path);
    if (info.kind === 'missing') {
      if (writable)
        throw scopeError(path, `is writable but ${host} does not exist on the host; create it first`);
      return;
    }
    if (info.kind === 'symlink') throw scopeError(path, `${host} is a symlink; name its target instead`);
    mounts.push({ kind: 'bind', host, dest: path, writable, fd: inWorkspace(path) });
    (writable ? landlock.readWrite : landlock.readOnly).push(path);
    if ((inWorkspace(path) || writable) && info.uid > 0 && !idmaps.some((m) => within(host, m.host)))
      idmaps.push({ host, uid: info.uid, gid: info.gid });
  };
  for (const scope of scopes) if (!readableInPrivateTmp(scope.path)) mountScope(scope);

  mounts.push({ kind: 'proc', dest: '/proc' }, { kind: 'dev', dest: '/dev' });
  for (const dir of PRIVATE_TMPFS) mounts.push({ kind: 'tmpfs', dest: dir, readOnly: false });
  if (input.home === undefined) mounts.push({ kind: 'tmpfs', dest: SANDBOX_PATHS.home, readOnly: false });
  else {
    const info = probe(input.home);
    if (info.kind !== 'dir' || info.uid === 0)
      throw scopeError(
        SANDBOX_PATHS.home,
        `home ${input.home} must be an existing directory not owned by root`,
      );
    // Opened by the launcher like a workspace bind: the sandbox uid need not traverse the data dir.
    mounts.push({ kind: 'bind', host: input.home, dest: SANDBOX_PATHS.home, writable: true, fd: true });
    idmaps.push({ host: input.home, uid: info.uid, gid: info.gid });
  }
  for (const scope of scopes) if (readableInPrivateTmp(scope.path)) mountScope(scope);
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
  // A file beneath a directory of the (read-only, shared) /etc mirror lands in a private tmpfs
  // there, so the mirror holds only an empty directory as its mount point, never a stand-in
  // file another sandbox would read as, say, empty managed settings.
  const binds = checkReadOnlyBinds(input.readOnlyBinds ?? [], input.dataScope, probe);
  const etcTmpfs = [
    ...new Set(binds.filter((bind) => etcFileParent(bind, probe)).map((b) => dirname(b.dest))),
  ];
  for (const dest of etcTmpfs) mounts.push({ kind: 'tmpfs', dest, readOnly: false });
  for (const bind of binds) {
    mounts.push({ kind: 'bind', host: bind.host, dest: bind.dest, writable: false, fd: false });
    // /etc and HOME have Landlock rules already; a path elsewhere needs read access of its own.
    const covered = [...landlock.readOnly, ...landlock.readWrite].some(
      (root) => root !== '/' && within(bind.dest, root),
    );
    if (!covered) landlock.readOnly.push(bind.dest);
  }
  for (const dest of etcTmpfs) mounts.push({ kind: 'remount-ro', dest });
  mounts.push({ kind: 'remount-ro', dest: '/' });
  return { mounts, landlock, idmaps, placeholders, gitScans };
}

/**
 * Whether `bind` is a non-directory beneath a directory of /etc (not /etc itself): it gets a
 * private tmpfs at its parent, and the /etc mirror only an empty directory as mount point.
 */
export function etcFileParent(bind: ReadOnlyBind, probe: HostProbe): boolean {
  return bind.dest.startsWith('/etc/') && dirname(bind.dest) !== '/etc' && probe(bind.host).kind !== 'dir';
}

function bindError(dest: string, why: string): PaddockError {
  return new PaddockError('PDK_SANDBOX_SCOPE', `read-only bind to ${dest}: ${why}`);
}

/**
 * Refuses extra read-only binds that could widen or shadow what the sandbox is: a destination
 * must be absolute and normalized, outside /workspace and every writable scope (a bind there
 * would hide the agent's own files), and outside the system view and the sandbox's own mounts
 * except under `/etc/paddock-*`, `/run/paddock/*` (not the PDP socket) or a harness settings
 * path (HARNESS_SETTINGS_PATHS). The host path must exist and not be a symlink.
 */
export function checkReadOnlyBinds(
  binds: readonly ReadOnlyBind[],
  dataScope: DataScope,
  probe: HostProbe,
): readonly ReadOnlyBind[] {
  const seen = new Set<string>();
  for (const { host, dest } of binds) {
    if (!dest.startsWith('/') || normalize(dest) !== dest || dest.endsWith('/') || dest === '/')
      throw bindError(dest, 'the sandbox path must be absolute and normalized');
    if (seen.has(dest)) throw bindError(dest, 'bound twice');
    seen.add(dest);
    if (within(dest, SANDBOX_PATHS.workspace))
      throw bindError(dest, "the sandbox path is inside /workspace, the agent's own files");
    const writable = dataScope.write.find((root) => within(dest, root) || within(root, dest));
    if (writable) throw bindError(dest, `the sandbox path overlaps the writable scope ${writable}`);
    const hidden = dataScope.deny.find((root) => within(dest, root) || within(root, dest));
    if (hidden) throw bindError(dest, `the sandbox path overlaps the hidden path ${hidden}`);
    const sanctioned =
      dest.startsWith('/etc/paddock-') ||
      (dest.startsWith('/run/paddock/') && dest !== SANDBOX_PATHS.pdpSocket) ||
      HARNESS_SETTINGS_PATHS.some((path) => within(dest, path));
    const system = NEVER_WRITABLE.find((root) => within(dest, root) || within(root, dest));
    if (!sanctioned && system)
      throw bindError(
        dest,
        `overlaps ${system}, which the sandbox provides itself; use /etc/paddock-*, /run/paddock/* or a harness settings path`,
      );
    const info = probe(host);
    if (info.kind === 'missing') throw bindError(dest, `${host} does not exist on the host`);
    if (info.kind === 'symlink') throw bindError(dest, `${host} is a symlink; name its target instead`);
  }
  return binds;
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
