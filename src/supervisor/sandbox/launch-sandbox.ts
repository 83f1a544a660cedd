import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { closeSync, mkdirSync, openSync, realpathSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { constants } from 'node:os';
import { isatty } from 'node:tty';
import { PaddockError } from '../../core/errors.ts';
import { buildCommandLines, SECCOMP_FD, STATUS_FD } from './bwrap-args.ts';
import { type GitHookReport, gitHookChanges, rescanGitHooks, snapshotGitHooks } from './git-hook-report.ts';
import { type GitScanLimits, rememberedStamps, rememberStamps, scanGitRepositories } from './git-scan.ts';
import { probeHostPath } from './host-probe.ts';
import { requireSandboxFeatures } from './kernel-features.ts';
import { etcFileParent, planMounts, type ReadOnlyBind } from './mount-plan.ts';
import { ensureNativeBinaries, installLandlockExec } from './native-binaries.ts';
import { type CreatedPlaceholder, createPlaceholders, removePlaceholders } from './placeholders.ts';
import { compileSeccompFilter } from './seccomp/compile-seccomp.ts';
import { hostSeccompArch } from './seccomp/syscall-table.ts';
import { buildSandboxEnv } from './sandbox-env.ts';
import { resolveLimits, rlimitArgs } from './sandbox-limits.ts';
import { DEFAULT_STATE_DIR, prepareStateDir, writeMirrorFile } from './sandbox-state.ts';
import type {
  DataScope,
  OptionalSandboxFeature,
  SandboxLimits,
  SandboxNetworkAttachment,
} from './sandbox-types.ts';
import { killUidProcesses, leaseSandboxUid } from './sandbox-uid.ts';
import { readStatusStream } from './status-stream.ts';

/** util-linux setsid: makes the launcher a session leader with the pty as controlling terminal. */
const SETSID = '/usr/bin/setsid';

/** How long 'close' may lag the launcher's exit before leftovers of its uid are killed. */
const ORPHAN_GRACE_MS = 1000;

/** What to run and what it may touch. */
export interface SandboxOptions {
  /** The command and its arguments, run in /workspace (PATH is searched). */
  readonly command: readonly string[];
  /** Host directory shown as /workspace. */
  readonly workdir: string;
  readonly dataScope: DataScope;
  /** Default DEFAULT_SANDBOX_LIMITS (512 processes, 4096 files, 4096 MiB). */
  readonly limits?: Partial<SandboxLimits>;
  /** The prepared network namespace; omitted: an empty one (no interface but loopback). */
  readonly network?: SandboxNetworkAttachment;
  /** Host path of the supervisor's CA bundle, mounted at /etc/paddock/ca.pem. */
  readonly caBundle?: string;
  /** Host path of the supervisor's PDP socket (startPdpServer), mounted read-only at /run/paddock/pdp.sock. */
  readonly pdpSocket?: string;
  /**
   * Extra host files or directories shown read-only at a sandbox path (hook socket, harness
   * managed settings, a native client). Refused (PDK_SANDBOX_SCOPE) inside /workspace, a
   * writable or hidden scope, or the system view, except under `/etc/paddock-*`,
   * `/run/paddock/*` and the harness settings paths of docs/hooks.md. Under /etc the shared
   * mirror gets an empty directory as mount point (a file in it lands on a private tmpfs),
   * or an empty file for `/etc/paddock-*` files. Default none.
   */
  readonly readOnlyBinds?: readonly ReadOnlyBind[];
  /** The egress gateway's PADDOCK_CREDENTIAL_* placeholders, set in the command's environment. */
  readonly credentialEnv?: Readonly<Record<string, string>>;
  /** Features the blueprint waived; each one missing is reported by `onWeakened`. */
  readonly allowMissing?: readonly OptionalSandboxFeature[];
  /** Host paths that must never be writable inside (blueprint file, desired-state directory). */
  readonly policyPaths?: readonly string[];
  /** The caller's environment; only terminal and locale variables are passed through. */
  readonly hostEnv?: Readonly<Record<string, string | undefined>>;
  /**
   * A pty's slave descriptor: the launcher gets it as stdin, stdout and stderr and as its
   * controlling terminal (a new session, `setsid --ctty`), so a shell has job control and sees
   * resizes. Replaces `stdio`. Default none.
   */
  readonly terminal?: number;
  /** Host directory shown as the persistent, writable HOME (mount-plan.ts). Default a private tmpfs. */
  readonly home?: string;
  /** Default inherit (a TTY passes through). */
  readonly stdio?: readonly [
    'inherit' | 'pipe' | 'ignore',
    'inherit' | 'pipe' | 'ignore',
    'inherit' | 'pipe' | 'ignore',
  ];
  /** Root-owned state directory. Default /run/paddock. */
  readonly stateDir?: string;
  /**
   * Bounds of the launch's search for git repositories beneath the writable scopes, whose hooks
   * and config are protected; the launch fails (PDK_SANDBOX_GIT_SCAN_LIMIT) rather than leave one
   * unprotected. Default DEFAULT_GIT_SCAN_LIMITS: depth 32, 200,000 entries, 32 repositories.
   */
  readonly gitScanLimits?: GitScanLimits;
}

/** How the sandboxed command ended. */
export interface SandboxExit {
  /** The command's exit code; 128+n when a signal n ended it (as a shell reports it). */
  readonly exitCode: number;
  /** Whether the command was started (false: setup failed, see `error`). */
  readonly started: boolean;
  readonly error?: PaddockError;
  readonly durationMs: number;
}

export interface RunningSandbox {
  /** The dedicated host uid the sandbox runs as. */
  readonly uid: number;
  /** The launcher's pid (bubblewrap's after exec), for signals. */
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves with the command's pid inside the sandbox once it runs; rejects if setup fails. */
  readonly started: Promise<number>;
  readonly exited: Promise<SandboxExit>;
  /** Sends a signal to the sandbox (bubblewrap passes on its death to everything inside). */
  kill(signal?: NodeJS.Signals): void;
}

/** A sandbox planned and holding its uid and placeholders, not yet running. */
export interface PreparedSandbox {
  /** The dedicated host uid it will run as. */
  readonly uid: number;
  /** Starts it; `network` is required exactly when it was prepared `withNetwork`. */
  launch(network?: SandboxNetworkAttachment): RunningSandbox;
  /** Gives back the uid and removes the placeholders of a sandbox that will not be launched. */
  abandon(): void;
  /**
   * After the sandbox is gone: git hooks, code-running git config and `.git` pointers beneath
   * the writable scopes that are new or changed since the launch (git-hook-report.ts). Rescans
   * the scopes, so it costs about as much as the launch's scan.
   */
  reportGitHooks(): GitHookReport;
}

/**
 * The synchronous half of a launch: host checks, mount plan, uid lease, placeholders. Split from
 * the launch so a caller can build the network meanwhile (its `ip`/`nft` run in child processes).
 * Throws PaddockError when the host lacks a required feature or the scope is unsafe.
 */
export function prepareSandbox(
  options: Omit<SandboxOptions, 'network'> & { readonly withNetwork: boolean },
): PreparedSandbox {
  if (process.getuid?.() !== 0) throw new PaddockError('PDK_SANDBOX_NOT_ROOT');
  const arch = hostSeccompArch();
  if (!arch) {
    throw new PaddockError(
      'PDK_SANDBOX_FEATURE_MISSING',
      `seccomp filter: unsupported CPU architecture ${process.arch}`,
    );
  }
  requireSandboxFeatures();
  const limits = resolveLimits(options.limits);
  const natives = ensureNativeBinaries();
  const state = prepareStateDir(options.stateDir ?? DEFAULT_STATE_DIR);
  installLandlockExec(natives.landlockExec, state.etcMirror);
  writeMirrorFile(state.etcMirror, 'paddock/seccomp.bpf', compileSeccompFilter(arch));
  // One budget for every writable scope of the launch.
  let entriesSpent = 0;
  const plan = planMounts({
    dataScope: options.dataScope,
    workdir: realpathSync(options.workdir),
    probe: probeHostPath,
    etcMirror: state.etcMirror,
    emptyFile: state.emptyFile,
    caBundle: options.caBundle,
    pdpSocket: options.pdpSocket,
    policyPaths: options.policyPaths,
    readOnlyBinds: options.readOnlyBinds,
    home: options.home,
    scanGit: (hostRoot, skip) => {
      const scan = scanGitRepositories(hostRoot, {
        skip,
        limits: options.gitScanLimits,
        entriesSpent,
        previous: rememberedStamps(hostRoot),
      });
      entriesSpent = scan.entries;
      rememberStamps(hostRoot, scan.stamps);
      return scan;
    },
  });
  for (const bind of options.readOnlyBinds ?? [])
    createMirrorMountPoint(state.etcMirror, bind, probeHostPath);
  // Before the placeholders exist (they are gone again when the report rescans).
  const hooksAtLaunch = snapshotGitHooks(plan.gitScans);
  const terminal = options.terminal;
  const stdio: readonly (string | number)[] =
    terminal === undefined
      ? (options.stdio ?? ['inherit', 'inherit', 'inherit'])
      : [terminal, terminal, terminal];
  const lines = buildCommandLines({
    plan,
    command: options.command,
    hasNetwork: options.withNetwork,
    interactive: terminal !== undefined || (stdio[0] === 'inherit' && isatty(0)),
    allowMissingLandlock: options.allowMissing?.includes('landlock') ?? false,
    openFiles: limits.openFiles,
  });
  const lease = leaseSandboxUid(state.slotsDir);
  let created: CreatedPlaceholder[];
  try {
    created = createPlaceholders(plan.placeholders);
  } catch (error) {
    lease.release();
    throw error;
  }
  let used = false;
  const release = () => {
    lease.release();
    removePlaceholders(created);
  };
  return {
    uid: lease.uid,
    reportGitHooks: () => gitHookChanges(hooksAtLaunch, rescanGitHooks(plan.gitScans)),
    abandon() {
      if (used) return;
      used = true;
      release();
    },
    launch(network) {
      if (used) throw new Error('a prepared sandbox launches once');
      if ((network !== undefined) !== options.withNetwork)
        throw new Error('network given does not match withNetwork');
      used = true;
      const launcherArgs = [
        ...lines.launcher,
        ...['--uid', String(lease.uid), '--gid', String(lease.gid)],
        ...(network ? ['--netns', network.netnsPath] : []),
        ...rlimitArgs(limits, lines.setupFds),
        '--',
        '/usr/bin/bwrap',
        ...lines.bwrap,
      ];
      const env = buildSandboxEnv({
        hostEnv: options.hostEnv ?? {},
        proxyEnv: network?.env,
        caMounted: options.caBundle !== undefined,
        credentialEnv: options.credentialEnv,
      });
      let child: ChildProcess;
      try {
        const spawnOptions = { env, stdio: [...stdio, 'pipe', 'pipe'] as StdioOptions };
        // setsid execs in place (the pid stays the launcher's): a new session whose controlling
        // terminal is the pty, as a login on a terminal would have.
        child =
          terminal === undefined
            ? spawn(natives.sandboxLaunch, launcherArgs, spawnOptions)
            : spawn(SETSID, ['--ctty', natives.sandboxLaunch, ...launcherArgs], spawnOptions);
      } catch (error) {
        release();
        throw error;
      }
      return watch(child, compileSeccompFilter(arch), lease.uid, release);
    },
  };
}

/**
 * The mirror is read-only inside, so bwrap cannot create a mount point beneath /etc: an empty
 * directory or empty root-owned file stands in (what another sandbox sees there without a bind).
 */
function createMirrorMountPoint(etcMirror: string, bind: ReadOnlyBind, probe: typeof probeHostPath): void {
  if (!bind.dest.startsWith('/etc/')) return;
  const fileInDir = etcFileParent(bind, probe);
  const path = join(etcMirror, relative('/etc', fileInDir ? dirname(bind.dest) : bind.dest));
  if (probe(path).kind !== 'missing') return;
  if (fileInDir || probe(bind.host).kind === 'dir') mkdirSync(path, { recursive: true, mode: 0o755 });
  else closeSync(openSync(path, 'a', 0o444));
}

/** Feeds the seccomp program, reads bubblewrap's status, and cleans up once the sandbox is gone. */
function watch(
  child: ChildProcess,
  seccompProgram: Buffer,
  uid: number,
  release: () => void,
): RunningSandbox {
  const startedAt = performance.now();
  // A spawn that failed outright has no pipes: the status stream then reports no child.
  const seccomp = child.stdio[SECCOMP_FD] as NodeJS.WritableStream | null;
  seccomp?.on('error', () => {}); // bwrap exiting early closes it; the exit status reports why
  seccomp?.end(seccompProgram);
  const status = readStatusStream((child.stdio[STATUS_FD] as NodeJS.ReadableStream | null) ?? undefined);

  let done = false;
  const exited = new Promise<SandboxExit>((resolve) => {
    const finish = async (
      code: number | null | undefined,
      signal: NodeJS.Signals | null | undefined,
      error?: Error,
    ) => {
      if (done) return;
      done = true;
      const report = await status.done;
      release();
      const durationMs = performance.now() - startedAt;
      if (report.childPid === undefined) {
        const why = error?.message ?? `launcher exited with ${signal ?? code}`;
        resolve({
          exitCode: 125,
          started: false,
          durationMs,
          error: new PaddockError('PDK_SANDBOX_START', `sandbox setup failed: ${why}`),
        });
        return;
      }
      const signalled = signal ? 128 + (constants.signals[signal] ?? 0) : undefined;
      resolve({ exitCode: report.exitCode ?? signalled ?? code ?? 1, started: true, durationMs });
    };
    child.on('error', (error) => finish(undefined, undefined, error));
    child.on('close', (code, signal) => finish(code, signal));
    // 'close' follows 'exit' once every holder of our pipes is gone. A bubblewrap that failed
    // half-way (measured: EMFILE right after its clone) leaves its forked child behind, not yet
    // the pid namespace's init and so not yet bound to its parent's death, holding the pipes:
    // 'close' would never come, and the uid would return to the pool still in use. Whatever
    // runs as this sandbox's dedicated uid once the launcher is gone is such a leftover.
    child.on('exit', () => {
      setTimeout(() => {
        if (!done) killUidProcesses(uid);
      }, ORPHAN_GRACE_MS).unref();
    });
  });
  const started = status.childPid.then((pid) => {
    if (pid === undefined)
      throw new PaddockError('PDK_SANDBOX_START', 'sandbox setup failed before the command started');
    return pid;
  });
  started.catch(() => {}); // callers that only await `exited` must not see an unhandled rejection
  return {
    uid,
    pid: child.pid ?? -1,
    child,
    started,
    exited,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
}

/**
 * Starts `options.command` in a new sandbox. Needs root. Throws PaddockError before anything runs
 * when the host lacks a required feature or the scope is unsafe.
 * @example const sandbox = await startSandbox({ command: ['true'], workdir: '/srv/ws',
 *   dataScope: { read: [], write: ['/workspace'], deny: [] } }); (await sandbox.exited).exitCode
 */
export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  return prepareSandbox({ ...options, withNetwork: options.network !== undefined }).launch(options.network);
}
