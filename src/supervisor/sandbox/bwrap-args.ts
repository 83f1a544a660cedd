import type { Mount, MountPlan } from './mount-plan.ts';
import { SANDBOX_PATHS, SANDBOX_USER } from './sandbox-types.ts';
import { SANDBOX_HOSTNAME } from './sandbox-state.ts';

// Turns a mount plan into the two command lines of a launch:
//   sandbox-launch (root) [--idmap …] [--open FD:PATH …] --uid … -- bwrap (sandbox uid) … -- landlock-exec … -- CMD
// The descriptor numbers are fixed here: 3 carries the seccomp program, 4 bwrap's JSON status,
// and the privileged launcher opens each fd-bound host path onto 10, 11, …

/** fd 3: the seccomp BPF program, written by the supervisor into a pipe. */
export const SECCOMP_FD = 3;
/** fd 4: bwrap's --json-status-fd ({"child-pid": N} once the command starts, then {"exit-code": N}). */
export const STATUS_FD = 4;
const FIRST_BIND_FD = 10;

export interface CommandLineInput {
  readonly plan: MountPlan;
  readonly command: readonly string[];
  /** Whether the sandbox joins a prepared network namespace; otherwise bwrap makes an empty one. */
  readonly hasNetwork: boolean;
  /** stdin is a terminal: keep the session so job control works (TIOCSTI is refused by seccomp). */
  readonly interactive: boolean;
  /** Features the blueprint waived (spec.sandbox.allowMissing). */
  readonly allowMissingLandlock: boolean;
  /** RLIMIT_NOFILE the command gets; the shim sets it once the launch's descriptors are closed. */
  readonly openFiles: number;
}

export interface CommandLines {
  /** Launcher options before `--` (idmaps and fd opens; uid, netns and rlimits are added by the caller). */
  readonly launcher: string[];
  /** bwrap options, mounts and the in-sandbox command (landlock-exec … -- CMD). */
  readonly bwrap: string[];
  /**
   * Descriptors the launch itself holds open (every --open lands below this number): the
   * launcher and bubblewrap need an RLIMIT_NOFILE above it, whatever the command gets.
   */
  readonly setupFds: number;
}

function mountArgs(mount: Mount, fdFor: (host: string) => number): string[] {
  switch (mount.kind) {
    case 'bind':
      if (mount.fd)
        return [mount.writable ? '--bind-fd' : '--ro-bind-fd', String(fdFor(mount.host)), mount.dest];
      return [
        `${mount.writable ? '--bind' : '--ro-bind'}${mount.optional ? '-try' : ''}`,
        mount.host,
        mount.dest,
      ];
    case 'symlink':
      return ['--symlink', mount.target, mount.dest];
    case 'tmpfs':
      return ['--tmpfs', mount.dest, ...(mount.readOnly ? ['--remount-ro', mount.dest] : [])];
    case 'proc':
      return ['--proc', mount.dest];
    case 'dev':
      return ['--dev', mount.dest];
    case 'remount-ro':
      return ['--remount-ro', mount.dest];
  }
}

export function buildCommandLines(input: CommandLineInput): CommandLines {
  const launcher: string[] = [];
  for (const idmap of input.plan.idmaps) launcher.push('--idmap', `${idmap.host}:${idmap.uid}:${idmap.gid}`);
  const fds = new Map<string, number>();
  const fdFor = (host: string) => {
    let fd = fds.get(host);
    if (fd === undefined) {
      fd = FIRST_BIND_FD + fds.size;
      fds.set(host, fd);
      launcher.push('--open', `${fd}:${host}`);
    }
    return fd;
  };

  const bwrap = [
    '--unshare-user',
    '--unshare-ipc',
    '--unshare-pid',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(input.hasNetwork ? [] : ['--unshare-net']),
    // No nested user namespaces (seccomp refuses CLONE_NEWUSER too): bwrap sets the sandbox's
    // user.max_user_namespaces to 0 and checks it took.
    '--disable-userns',
    '--assert-userns-disabled',
    '--uid',
    String(SANDBOX_USER.uid),
    '--gid',
    String(SANDBOX_USER.gid),
    '--hostname',
    SANDBOX_HOSTNAME,
    // The supervisor's death kills the sandbox (DESIGN.md §5 invariant 6).
    '--die-with-parent',
    ...(input.interactive ? [] : ['--new-session']),
    '--seccomp',
    String(SECCOMP_FD),
    '--json-status-fd',
    String(STATUS_FD),
  ];
  for (const mount of input.plan.mounts) bwrap.push(...mountArgs(mount, fdFor));
  bwrap.push('--chdir', SANDBOX_PATHS.workspace, '--', SANDBOX_PATHS.landlockExec);
  if (input.allowMissingLandlock) bwrap.push('--allow-missing');
  bwrap.push('--seccomp-log', SANDBOX_PATHS.seccompProgram, '--nofile', String(input.openFiles));
  for (const path of input.plan.landlock.readOnly) bwrap.push('--ro', path);
  for (const path of input.plan.landlock.readWrite) bwrap.push('--rw', path);
  for (const path of input.plan.landlock.listOnly) bwrap.push('--list', path);
  bwrap.push('--', ...input.command);
  return { launcher, bwrap, setupFds: FIRST_BIND_FD + fds.size };
}
