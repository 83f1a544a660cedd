import type { ParseArgsOptionsConfig } from 'node:util';

/** What a command receives: parsed options, positionals and its output streams. */
export interface CommandContext {
  readonly values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  readonly positionals: string[];
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/**
 * One CLI command. `name` may have several words (`blueprint explain`).
 * `run` resolves to the exit code; errors are thrown as PaddockError and printed by main.
 */
export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Argument synopsis after the command name, e.g. "[DIR]". */
  readonly usage: string;
  /** Longer help: what it does, each option, exit codes. */
  readonly help: string;
  readonly options: ParseArgsOptionsConfig;
  /** Whether everything after `--` is passed through as positionals (for `paddock run -- CMD`). */
  readonly passThrough?: boolean;
  run(ctx: CommandContext): Promise<number>;
}

/** `--config DIR`: the desired-state directory (default $PADDOCK_CONFIG, else the current directory). */
export const CONFIG_OPTION = {
  config: { type: 'string', short: 'c' },
} as const satisfies ParseArgsOptionsConfig;
export const CONFIG_HELP =
  '  -c, --config DIR   desired-state directory (default: $PADDOCK_CONFIG, else the current directory)';

/** `--json`: machine-readable output on stdout. */
export const JSON_OPTION = { json: { type: 'boolean' } } as const satisfies ParseArgsOptionsConfig;
export const JSON_HELP = '      --json         print JSON instead of text';
