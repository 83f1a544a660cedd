import { startSandbox } from '../../../../src/supervisor/sandbox/index.ts';
import type { SandboxOptions } from '../../../../src/supervisor/sandbox/index.ts';
import { SANDBOX_TERMINAL_OPTIONS_ENV } from './sandbox-terminal-env.ts';

// The trampoline openSandboxTerminal starts on a new terminal (as root, its session leader):
// it launches the sandbox with the terminal as stdio, passes hang-ups on, and exits with the
// shell's status. Not a command: run only by pty-terminal.ts.

const raw = process.env[SANDBOX_TERMINAL_OPTIONS_ENV];
delete process.env[SANDBOX_TERMINAL_OPTIONS_ENV];
if (!raw) {
  process.stderr.write('pty-sandbox-entry: no launch options\n');
  process.exit(125);
}
const options = JSON.parse(raw) as Omit<SandboxOptions, 'stdio'>;

// ^C, ^\ and ^Z are for the shell inside; before it takes the terminal's foreground, they
// reach this process too, which must not die of them (--die-with-parent would end the sandbox).
for (const signal of ['SIGINT', 'SIGQUIT', 'SIGTSTP'] as const) process.on(signal, () => {});

try {
  const sandbox = await startSandbox({ ...options, stdio: ['inherit', 'inherit', 'inherit'] });
  for (const signal of ['SIGHUP', 'SIGTERM'] as const) {
    process.on(signal, () => {
      sandbox.kill(signal);
      // bwrap's --die-with-parent ends whatever is left once this process is gone.
      setTimeout(() => process.exit(128 + (signal === 'SIGHUP' ? 1 : 15)), 2000).unref();
    });
  }
  const exit = await sandbox.exited;
  if (exit.error) process.stderr.write(`paddock: ${exit.error.message}\r\n`);
  process.exit(exit.exitCode);
} catch (error) {
  process.stderr.write(`paddock: the sandbox could not start: ${(error as Error).message}\r\n`);
  process.exit(125);
}
