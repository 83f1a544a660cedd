import type { Readable, Writable } from 'node:stream';
import { createLogger } from '../../core/log.ts';
import type { RunningSandbox } from '../sandbox/index.ts';
import { runStandalone, type StandaloneRunOptions } from '../standalone/standalone-run.ts';
import type { TerminalEnd, WorkspaceTerminal } from './pty-terminal.ts';
import { SSHD_COMMAND } from './workspace-sshd.ts';

// An `ssh`-mode terminal: `sshd -i` in a sandbox built exactly as a shell terminal's (the
// blueprint's scope, the egress gateway, the PDP socket and hooks, the persistent home), with
// no pty: its stdin and stdout are the SSH stream the broker relays. The SSH client asks sshd
// for a pty of its own when it wants one (from the sandbox's devpts).

const log = createLogger('workspace-sshd');

/** How long sshd's last output may trail its exit before the exit is reported. */
const DRAIN_MS = 250;
/** sshd's own log (stderr) kept per connection, for the supervisor's log. */
const MAX_LOG_BYTES = 16_384;

export interface SshdTerminalOptions {
  /** Everything the standalone run needs but the command and its stdio. */
  readonly run: Omit<StandaloneRunOptions, 'command' | 'terminal' | 'stdio' | 'onStarted'>;
}

/** Starts `sshd -i` in a new sandbox and resolves once it runs. */
export async function openSshdTerminal(options: SshdTerminalOptions): Promise<WorkspaceTerminal> {
  const dataListeners: ((data: Buffer) => void)[] = [];
  const exitListeners: ((end: TerminalEnd) => void)[] = [];
  let sandbox: RunningSandbox | undefined;
  let end: TerminalEnd | undefined;
  let held: Buffer[] | undefined = [];
  let stdin: Writable | undefined;
  let stdout: Readable | undefined;
  let sshdLog = '';
  let outputDone!: () => void;
  const outputEnded = new Promise<void>((resolve) => {
    outputDone = resolve;
  });
  let started!: () => void;
  let failed!: (error: Error) => void;
  const running = new Promise<void>((resolve, reject) => {
    started = resolve;
    failed = reject;
  });
  const finish = (value: TerminalEnd) => {
    if (end) return;
    end = value;
    stdout?.destroy();
    if (sshdLog) log.info({ sshd: sshdLog.trim() }, 'sshd ended');
    for (const listener of exitListeners) listener(value);
  };

  runStandalone({
    ...options.run,
    command: [...SSHD_COMMAND],
    stdio: ['pipe', 'pipe', 'pipe'],
    onStarted: (runningSandbox) => {
      sandbox = runningSandbox;
      const { child } = runningSandbox;
      stdin = child.stdin ?? undefined;
      stdout = child.stdout ?? undefined;
      stdin?.on('error', () => {}); // sshd gone: its exit reports why
      stdout?.on('data', (chunk: Buffer) => {
        if (held) held.push(chunk);
        else for (const listener of dataListeners) listener(chunk);
      });
      stdout?.on('end', () => outputDone());
      stdout?.on('close', () => outputDone());
      child.stderr?.on('data', (chunk: Buffer) => {
        if (sshdLog.length < MAX_LOG_BYTES) sshdLog += chunk.toString('utf8');
      });
      started();
    },
  }).then(
    async (result) => {
      await Promise.race([outputEnded, new Promise((resolve) => setTimeout(resolve, DRAIN_MS))]);
      finish({ exitCode: result.exitCode, signal: null });
    },
    (error: Error) => {
      log.warn({ error: error.message }, 'sandboxed sshd failed');
      failed(error);
      finish({ exitCode: null, signal: 'SIGHUP' });
    },
  );

  await running;
  return {
    write(data) {
      if (!end) stdin?.write(Buffer.from(data));
    },
    resize() {
      // SSH carries its own window-change requests inside the stream.
    },
    close() {
      if (!end) sandbox?.kill('SIGTERM');
    },
    pause: () => stdout?.pause(),
    resume: () => stdout?.resume(),
    onData(listener) {
      dataListeners.push(listener);
      const pending = held ?? [];
      held = undefined;
      for (const chunk of pending) listener(chunk);
    },
    onExit(listener) {
      if (end) listener(end);
      else exitListeners.push(listener);
    },
  };
}
