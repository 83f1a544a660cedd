import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { createLogger, type Logger } from '../../core/log.ts';

// What a service manager does for the workspace supervisor where there is none Paddock can use:
// on a Windows guest the service control manager needs a native service entry, which Node
// cannot be, so a Scheduled Task starts this loop at boot. Like the Linux unit
// (deploy/azure/scripts/paddock-supervisor.service: ExecStartPre, Restart=always, RestartSec=5)
// it runs the identity sync before every start, runs the supervisor, and starts it again five
// seconds after it ends, until the loop itself is stopped. The supervisor learns its parent
// from `--provider-pid` and keeps an IPC channel to it, so it stops when this loop dies
// however it dies (Windows does not re-parent orphans, so the pid alone would not tell it).

/** How long after the supervisor ends (or a sync fails) the next start waits, as the Linux unit. */
export const RESTART_DELAY_MS = 5000;
/** How long a stop waits for the supervisor to go before killing it. */
const STOP_GRACE_MS = 10_000;
/** The output file is rotated (one old file kept) once it grows past this, at a (re)start. */
export const LOG_ROTATE_BYTES = 10 * 1024 * 1024;

export interface ServiceLoopOptions {
  /** The supervisor's entry (main.ts) and its config file. */
  readonly entry: string;
  readonly config: string;
  /** Run to completion before every start; a failure skips that start (the sync is retried). */
  readonly identitySync?: readonly string[];
  /** Where the supervisor's output and the loop's own lines go (appended). Default inherited stderr. */
  readonly logFile?: string;
  readonly restartDelayMs?: number;
  /** Called on each start of the supervisor (tests and diagnostics). */
  readonly onStarted?: (child: ChildProcess) => void;
}

export interface ServiceLoop {
  /** Stops restarting, stops the supervisor (SIGTERM, then SIGKILL after a grace), and resolves. */
  stop(): Promise<void>;
  /** Resolves once the loop has ended. */
  readonly ended: Promise<void>;
}

/** The identity sync command for a script: PowerShell on Windows, the POSIX shell elsewhere. */
export function identitySyncCommand(script: string, platform: NodeJS.Platform = process.platform): string[] {
  return platform === 'win32'
    ? ['powershell.exe', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', script]
    : ['/bin/sh', script];
}

/**
 * What the guest sets machine-wide for the agent's logons (providers/windows-guest.ts): the
 * gateway as proxy and the workspace CA as trust. The supervisor and the identity sync start
 * without them, so nothing of theirs goes through, or trusts, what serves the agent.
 */
const AGENT_ONLY_VARIABLES = new Set([
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY',
  'SSL_CERT_FILE',
  'NODE_EXTRA_CA_CERTS',
  'REQUESTS_CA_BUNDLE',
  'GIT_SSL_CAINFO',
]);

/** This process's environment without the agent's variables (any case: Windows names are case-insensitive). */
export function serviceEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(([name]) => !AGENT_ONLY_VARIABLES.has(name.toUpperCase())),
  );
}

/** Opens the output file for appending, first moving it to FILE.1 when it has grown too big. */
function openOutput(path: string): number {
  try {
    if (statSync(path).size > LOG_ROTATE_BYTES) renameSync(path, `${path}.1`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return openSync(path, 'a', 0o600);
}

/** Runs `command` with output to `fd` (or inherited); resolves with its exit code (null: signal). */
async function runToEnd(command: readonly string[], fd: number | undefined): Promise<number | null> {
  const [file, ...args] = command;
  const child = spawn(file as string, args, {
    stdio: ['ignore', fd ?? 'inherit', fd ?? 'inherit'],
    env: serviceEnv(),
    windowsHide: true,
  });
  // 'error' (it could not start) rejects the wait.
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

export function startServiceLoop(options: ServiceLoopOptions): ServiceLoop {
  const restartDelay = options.restartDelayMs ?? RESTART_DELAY_MS;
  let stopping = false;
  let child: ChildProcess | undefined;
  let wake: (() => void) | undefined;
  let fd: number | undefined;
  let log: Logger = createLogger('supervisor-service');

  const reopenOutput = () => {
    if (!options.logFile) return;
    if (fd !== undefined) closeSync(fd);
    fd = openOutput(options.logFile);
    const out = fd;
    log = createLogger('supervisor-service', {
      write: (line) => {
        try {
          // A synchronous append: the loop's lines must be on disk before it can be killed.
          writeSync(out, line);
        } catch {
          // The log is diagnostics only; a full disk must not stop the supervisor's restarts.
        }
      },
    });
  };

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /** One round: the sync, then the supervisor until it ends. */
  async function runOnce(): Promise<void> {
    reopenOutput();
    if (options.identitySync) {
      let code: number | null;
      try {
        code = await runToEnd(options.identitySync, fd);
      } catch (error) {
        log.error(
          { command: options.identitySync.join(' '), error: (error as Error).message },
          'identity sync could not start; retried after the restart delay',
        );
        return;
      }
      if (code !== 0) {
        log.error(
          { command: options.identitySync.join(' '), exitCode: code },
          'identity sync failed; the supervisor is not started. Run the command by hand to see why; retried after the restart delay',
        );
        return;
      }
    }
    if (stopping) return;
    const started = spawn(
      process.execPath,
      [options.entry, '--config', options.config, '--provider-pid', String(process.pid)],
      { stdio: ['ignore', fd ?? 'inherit', fd ?? 'inherit', 'ipc'], env: serviceEnv(), windowsHide: true },
    );
    child = started;
    const exited = once(started, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    started.on('error', (error) => log.error({ error: error.message }, 'supervisor could not start'));
    if (started.pid !== undefined) {
      log.info({ pid: started.pid }, 'supervisor started');
      options.onStarted?.(started);
    }
    const [code, signal] = await exited.catch(() => [null, null] as const);
    child = undefined;
    log.warn({ exitCode: code, signal }, 'supervisor ended');
  }

  const ended = (async () => {
    while (!stopping) {
      await runOnce();
      if (!stopping) await pause(restartDelay);
    }
    if (fd !== undefined) closeSync(fd);
  })();

  return {
    ended,
    async stop() {
      if (stopping) return ended;
      stopping = true;
      wake?.();
      const running = child;
      if (running && running.exitCode === null && running.signalCode === null) {
        const gone = once(running, 'exit');
        running.kill('SIGTERM');
        const timer = setTimeout(() => running.kill('SIGKILL'), STOP_GRACE_MS);
        await gone;
        clearTimeout(timer);
      }
      return ended;
    },
  };
}
