import { spawn as spawnPty } from 'node-pty';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { SandboxOptions } from '../../../../src/supervisor/sandbox/index.ts';
import { SANDBOX_TERMINAL_OPTIONS_ENV } from './sandbox-terminal-env.ts';

// Test and benchmark support: real terminals on this host for the broker's tests (the
// product's sandbox terminal is the workspace supervisor's, src/supervisor/workspace/). A
// process on a new pseudo-terminal (node-pty): its bytes both ways, resizes and exit.
// `openSandboxTerminal` puts the shell in a real agent sandbox: node-pty starts a small root
// trampoline (pty-sandbox-entry.ts) as the session leader of the new terminal, and the
// trampoline launches the sandbox with that terminal as its stdio, so the shell inside keeps it
// as its controlling terminal (job control, ^C, SIGWINCH on resize) while the sandbox's own
// descriptors (seccomp program, status) stay pipes the launcher owns.

/** How the terminal's process ended. */
export interface PtyExit {
  /** The exit status (128+n when signal n ended a sandboxed shell), or null when a signal ended the process itself. */
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/** One process on a pseudo-terminal. */
export interface PtyTerminal {
  readonly pid: number;
  write(data: Uint8Array | string): void;
  resize(size: { readonly cols: number; readonly rows: number }): void;
  /** SIGHUP to the process (a hung-up terminal); `onExit` still fires. */
  close(): void;
  onData(listener: (data: Uint8Array) => void): void;
  onExit(listener: (exit: PtyExit) => void): void;
  /** Stops reading the terminal (the writer inside blocks once the kernel buffer fills). */
  pause(): void;
  resume(): void;
}

export interface PtySpawnOptions {
  readonly cols: number;
  readonly rows: number;
  readonly cwd?: string;
  /** The complete environment of the process (nothing is inherited). */
  readonly env: Readonly<Record<string, string>>;
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name]));

/**
 * Starts `file args` on a new pseudo-terminal.
 * @example const term = spawnPtyTerminal('/bin/cat', [], { cols: 80, rows: 24, env: { TERM: 'xterm' } });
 */
export function spawnPtyTerminal(
  file: string,
  args: readonly string[],
  options: PtySpawnOptions,
): PtyTerminal {
  const pty = spawnPty(file, [...args], {
    name: options.env['TERM'] ?? 'xterm-256color',
    cols: options.cols,
    rows: options.rows,
    cwd: options.cwd ?? '/',
    env: { ...options.env },
    encoding: null,
  });
  // Writes, resizes and signals after the exit would hit a closed descriptor or a reused pid.
  let exited = false;
  pty.onExit(() => {
    exited = true;
  });
  return {
    pid: pty.pid,
    write: (data) => {
      if (!exited) pty.write(typeof data === 'string' ? data : Buffer.from(data));
    },
    resize: ({ cols, rows }) => {
      if (!exited) pty.resize(cols, rows);
    },
    close: () => {
      if (!exited) pty.kill('SIGHUP');
    },
    onData: (listener) => {
      pty.onData((data) => listener(typeof data === 'string' ? Buffer.from(data) : (data as Uint8Array)));
    },
    onExit: (listener) => {
      pty.onExit(({ exitCode, signal }) => {
        const name = signal ? (SIGNAL_NAMES.get(signal) ?? String(signal)) : null;
        listener({ exitCode: name ? null : exitCode, signal: name });
      });
    },
    pause: () => pty.pause(),
    resume: () => pty.resume(),
  };
}

/** What a sandboxed terminal runs and may touch: the launcher's options without stdio. */
export type SandboxTerminalOptions = Omit<SandboxOptions, 'stdio' | 'hostEnv'> & {
  readonly cols: number;
  readonly rows: number;
  /** Presentation variables passed into the sandbox (TERM, LANG, …; see sandbox-env.ts). Default TERM=xterm-256color. */
  readonly hostEnv?: Readonly<Record<string, string>>;
};

const ENTRY = fileURLToPath(new URL('./pty-sandbox-entry.ts', import.meta.url));

/**
 * Opens `options.command` (e.g. `['bash', '-l']`) inside a new agent sandbox on a terminal.
 * Needs root, like every sandbox launch. A sandbox that cannot start prints the launcher's
 * error on the terminal and exits 125.
 * @example const term = openSandboxTerminal({ command: ['bash', '-l'], workdir, dataScope, cols: 80, rows: 24 });
 */
export function openSandboxTerminal(options: SandboxTerminalOptions): PtyTerminal {
  const { cols, rows, ...launch } = options;
  const hostEnv = { TERM: 'xterm-256color', ...options.hostEnv };
  return spawnPtyTerminal(process.execPath, [ENTRY], {
    cols,
    rows,
    env: {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      TERM: hostEnv.TERM,
      [SANDBOX_TERMINAL_OPTIONS_ENV]: JSON.stringify({ ...launch, hostEnv }),
    },
  });
}
