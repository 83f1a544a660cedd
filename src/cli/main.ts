import { parseArgs } from 'node:util';
import { ENV } from '../core/env.ts';
import { PaddockError } from '../core/errors.ts';
import { PRODUCT_VERSION } from '../core/version.ts';
import type { Command, CommandContext } from './command.ts';
import { COMMANDS, type CommandEntry } from './commands/index.ts';
import { formatError } from './output.ts';

export interface MainIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const rows = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'paddock: secure agent workspaces',
    '',
    'Usage: paddock <command> [options]',
    '',
    'Commands:',
    ...rows,
    '',
    "Run `paddock <command> --help` for a command's options.",
    '',
  ].join('\n');
}

function commandHelp(command: Command): string {
  return `Usage: paddock ${command.name}${command.usage ? ` ${command.usage}` : ''}\n\n${command.summary}\n\n${command.help.trimEnd()}\n  -h, --help         show this help\n`;
}

/** Finds the longest command name that prefixes argv (`blueprint explain NAME` → `blueprint explain`). */
function findCommand(argv: string[]): { command: CommandEntry; rest: string[] } | undefined {
  let best: { command: CommandEntry; rest: string[] } | undefined;
  for (const command of COMMANDS) {
    const words = command.name.split(' ');
    if (
      words.every((word, i) => argv[i] === word) &&
      (!best || words.length > best.command.name.split(' ').length)
    ) {
      best = { command, rest: argv.slice(words.length) };
    }
  }
  return best;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[], io: MainIo): Promise<number> {
  const debug = io.env[ENV.logLevel] === 'debug';
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      (argv.length === 0 ? io.stderr : io.stdout).write(topLevelHelp());
      return argv.length === 0 ? 2 : 0;
    }
    if (argv[0] === '--version' || argv[0] === '-V') {
      io.stdout.write(`${PRODUCT_VERSION}\n`);
      return 0;
    }
    const found = findCommand(argv);
    if (!found) {
      const group = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `));
      // `paddock review --help`: the group's commands, as the top-level help lists them.
      if (group.length && (argv[1] === '--help' || argv[1] === '-h')) {
        const width = Math.max(...group.map((c) => c.name.length));
        io.stdout.write(`${group.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}\n`);
        return 0;
      }
      const hint = group.length ? ` (did you mean one of: ${group.map((c) => c.name).join(', ')}?)` : '';
      throw new PaddockError('PDK_CLI_UNKNOWN_COMMAND', `unknown command "${argv[0]}"${hint}`);
    }
    const { rest } = found;
    const command = await found.command.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      const dashDash = rest.indexOf('--');
      const helpAt = Math.max(rest.indexOf('--help'), rest.indexOf('-h'));
      if (dashDash === -1 || helpAt < dashDash) {
        io.stdout.write(commandHelp(command));
        return 0;
      }
    }
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    } catch (error) {
      throw new PaddockError('PDK_CLI_USAGE', `paddock ${command.name}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const ctx: CommandContext = {
      values: parsed.values as CommandContext['values'],
      positionals: parsed.positionals,
      stdout: io.stdout,
      stderr: io.stderr,
      env: io.env,
      cwd: io.cwd,
    };
    return await command.run(ctx);
  } catch (error) {
    io.stderr.write(formatError(error, debug));
    return error instanceof PaddockError && error.code.startsWith('PDK_CLI_') ? 2 : 1;
  }
}
