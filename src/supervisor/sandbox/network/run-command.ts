import { spawn } from 'node:child_process';

// Runs iproute2, nftables and util-linux tools for the network plumbing. The environment is
// reduced to PATH plus what the caller passes, so a variable in the supervisor's own
// environment (LD_PRELOAD, LANG, …) cannot change what these root commands do; LC_ALL=C keeps
// their error messages in the English the callers match ("File exists").

/** Where the system tools live on Debian; nothing from the caller's PATH is trusted. */
const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/** Output kept per stream; the tools print little, and a runaway tool must not grow memory. */
const MAX_OUTPUT_BYTES = 256 * 1024;

export interface CommandResult {
  /** Exit code, or null when the process was killed by a signal (including our timeout). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Whether the timeout killed it. */
  readonly timedOut: boolean;
}

export interface RunCommandOptions {
  /** Written to standard input, then closed. Absent: standard input is /dev/null. */
  readonly input?: string;
  /** Extra environment variables (names and values are passed as they are). */
  readonly env?: Readonly<Record<string, string>>;
  /** Kill the process (SIGKILL) after this many milliseconds. Default 10000. */
  readonly timeoutMs?: number;
}

/**
 * Runs `file` with `args` and resolves with its exit code and output; never rejects for a
 * non-zero exit (the caller decides what a failure means), only for a failure to spawn.
 * @example await runCommand('ip', ['-batch', '-'], { input: 'netns add pdk-1-42\n' })
 */
export function runCommand(
  file: string,
  args: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: { PATH: SYSTEM_PATH, LC_ALL: 'C', ...options.env },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (outBytes < MAX_OUTPUT_BYTES) out.push(chunk);
      outBytes += chunk.length;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (errBytes < MAX_OUTPUT_BYTES) err.push(chunk);
      errBytes += chunk.length;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 10_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    if (options.input !== undefined && child.stdin) {
      // A tool that exits before reading all of its input (a parse error on line 1) closes
      // the pipe; that failure is reported through its exit code, not as EPIPE here.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
  });
}

/** The first lines of a tool's error output, for error messages and logs (never whole dumps). */
export function summarizeOutput(result: CommandResult, maxLines = 6): string {
  const lines = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const shown = lines.slice(0, maxLines).join(' | ');
  const status = result.timedOut ? 'timed out' : `exit ${result.code ?? 'signal'}`;
  return shown ? `${status}: ${shown}` : status;
}
