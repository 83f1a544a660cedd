import { closeSync, constants, openSync, write } from 'node:fs';
import { ReadStream } from 'node:tty';
import ptyModule from 'node-pty';
import { createLogger } from '../../core/log.ts';
import type { RunningSandbox } from '../sandbox/index.ts';
import { runStandalone, type StandaloneRunOptions } from '../standalone/standalone-run.ts';

// A terminal into the workspace: a login shell on a real pty, inside a Paddock sandbox built
// exactly as `paddock run` builds one (standalone-run.ts: egress gateway, PDP socket, hooks,
// network), with the pty as the sandboxed shell's controlling terminal (the launcher starts
// under `setsid --ctty`: job control, ^C, SIGWINCH on resize). node-pty only makes the pty
// pair and sets its size; the launcher is spawned as for any other run, so its seccomp and
// status descriptors stay the launcher's own pipes.

const log = createLogger('workspace-terminal');

/** How long the shell's last output may trail its exit before the exit is reported. */
const DRAIN_MS = 250;

interface NativePty {
  open(cols: number, rows: number): { master: number; slave: number; pty: string };
  resize(fd: number, cols: number, rows: number): void;
}
const nativePty = (ptyModule as unknown as { native: NativePty }).native;

export interface TerminalEnd {
  /** The shell's exit status (128+n when signal n ended it), or null when the sandbox never ran it. */
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/** A shell in the sandbox, as the channel client drives it. */
export interface WorkspaceTerminal {
  write(data: Uint8Array): void;
  resize(cols: number, rows: number): void;
  /** Hangs up: the sandbox is signalled (SIGHUP) and torn down; onExit still fires. */
  close(): void;
  /** Stops reading the shell's output (flow control). */
  pause(): void;
  resume(): void;
  onData(listener: (data: Buffer) => void): void;
  onExit(listener: (end: TerminalEnd) => void): void;
}

export interface SandboxTerminalOptions {
  readonly cols: number;
  readonly rows: number;
  /** The command (default a login shell). */
  readonly command?: readonly string[];
  /** Everything the standalone run needs but the command and the terminal. */
  readonly run: Omit<StandaloneRunOptions, 'command' | 'terminal' | 'stdio' | 'onStarted'>;
}

/** Opens a pty, starts the sandboxed shell on it, and resolves once the shell runs. */
export async function openSandboxTerminal(options: SandboxTerminalOptions): Promise<WorkspaceTerminal> {
  const pair = nativePty.open(options.cols, options.rows);
  // A fresh, blocking open of the slave for the shell (node-pty's is non-blocking, which
  // programs reading stdin do not expect); Node opens it close-on-exec, so only the launcher
  // inherits it. The pty's own slave descriptor goes at once.
  let slave: number;
  try {
    slave = openSync(pair.pty, constants.O_RDWR | constants.O_NOCTTY);
  } finally {
    closeSync(pair.slave);
  }
  const master = pair.master;
  const output = new ReadStream(master);
  const dataListeners: ((data: Buffer) => void)[] = [];
  const exitListeners: ((end: TerminalEnd) => void)[] = [];
  let sandbox: RunningSandbox | undefined;
  let end: TerminalEnd | undefined;
  let slaveOpen = true;
  const closeSlave = () => {
    if (!slaveOpen) return;
    slaveOpen = false;
    closeSync(slave);
  };
  let outputDone!: () => void;
  const outputEnded = new Promise<void>((resolve) => {
    outputDone = resolve;
  });
  // Output before the caller listens (the shell's first prompt) is held for it.
  let held: Buffer[] | undefined = [];
  output.on('data', (chunk: Buffer) => {
    if (held) held.push(chunk);
    else for (const listener of dataListeners) listener(chunk);
  });
  // EIO once every holder of the slave is gone: the shell's output is complete.
  output.on('error', () => outputDone());
  output.on('close', () => outputDone());
  output.on('end', () => outputDone());

  let started!: () => void;
  let failed!: (error: Error) => void;
  const running = new Promise<void>((resolve, reject) => {
    started = resolve;
    failed = reject;
  });
  const finish = (value: TerminalEnd) => {
    if (end) return;
    end = value;
    output.destroy();
    for (const listener of exitListeners) listener(value);
  };
  runStandalone({
    ...options.run,
    command: options.command ?? ['/bin/bash', '--login'],
    terminal: slave,
    onStarted: (runningSandbox) => {
      sandbox = runningSandbox;
      // The launcher holds the slave now; ours would keep the pty open after the shell exits.
      closeSlave();
      started();
    },
  }).then(
    async (result) => {
      closeSlave();
      await Promise.race([outputEnded, new Promise((resolve) => setTimeout(resolve, DRAIN_MS))]);
      finish({ exitCode: result.exitCode, signal: null });
    },
    (error: Error) => {
      closeSlave();
      log.warn({ error: error.message }, 'sandboxed terminal failed');
      failed(error);
      finish({ exitCode: null, signal: 'SIGHUP' });
    },
  );

  await running;
  let writing: Promise<void> = Promise.resolve();
  return {
    write(data) {
      if (end) return;
      const bytes = Buffer.from(data);
      writing = writing.then(() => writeAll(master, bytes)).catch(() => {});
    },
    resize(cols, rows) {
      if (end) return;
      try {
        nativePty.resize(master, cols, rows);
      } catch (error) {
        log.debug({ error: (error as Error).message }, 'resize after the pty closed');
      }
    },
    close() {
      if (!end) sandbox?.kill('SIGHUP');
    },
    pause: () => output.pause(),
    resume: () => output.resume(),
    onData: (listener) => {
      dataListeners.push(listener);
      const pending = held ?? [];
      held = undefined;
      for (const chunk of pending) listener(chunk);
    },
    onExit: (listener) => {
      if (end) listener(end);
      else exitListeners.push(listener);
    },
  };
}

/** Writes everything to the non-blocking master, waiting out EAGAIN. */
function writeAll(fd: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (offset: number) => {
      if (offset >= data.byteLength) return resolve();
      write(fd, data, offset, data.byteLength - offset, null, (error, written) => {
        if (error) {
          if ((error as NodeJS.ErrnoException).code === 'EAGAIN')
            return void setTimeout(() => step(offset), 5);
          return reject(error);
        }
        step(offset + written);
      });
    };
    step(0);
  });
}
