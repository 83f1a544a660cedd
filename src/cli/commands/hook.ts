import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PaddockError } from '../../core/errors.ts';
import { HARNESSES, type Harness, HOOK_SOCKET_PATH, writeManagedSettings } from '../../supervisor/index.ts';
import { runHookClient } from '../../supervisor/hooks/client.js';
import { type Command, JSON_HELP, JSON_OPTION } from '../command.ts';
import { writeJson } from '../output.ts';

const ENTRY = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));

const HOOK_HELP = `Answers one tool-call hook of an agent harness: reads the hook's JSON on stdin, asks
the workspace supervisor's policy over the hook socket, and prints the answer in the harness's
format. Harnesses run this themselves, from the managed settings \`paddock hook install\` writes.
It fails closed: any error, a missing socket or no answer within 2 s blocks the call.

HARNESS is one of: ${HARNESSES.join(', ')}.

Exit codes: 0 answered (the decision is in the JSON on stdout), 2 blocked (reason on stderr).

Options:
      --socket PATH  the hook socket (default ${HOOK_SOCKET_PATH})
`;

/** `paddock hook HARNESS`: normally dispatched early by bin/paddock.js; this is the same client. */
export const hookCommand: Command = {
  name: 'hook',
  summary: 'answer an agent harness tool-call hook from the workspace policy',
  usage: `<${HARNESSES.join('|')}> [--socket PATH]`,
  help: HOOK_HELP,
  options: { socket: { type: 'string' } },
  async run(ctx) {
    const socket = ctx.values['socket'] as string | undefined;
    return runHookClient([...ctx.positionals, ...(socket ? ['--socket', socket] : [])], {
      stdin: process.stdin,
      stdout: ctx.stdout,
      stderr: ctx.stderr,
    });
  },
};

const INSTALL_HELP = `Writes the managed settings that make each harness run \`paddock hook\` before and after
every tool call, and stop the agent from removing the hook, under DIR at the path the harness
reads inside the sandbox (DIR/etc/claude-code/managed-settings.json, DIR/etc/codex/requirements.toml,
DIR/etc/gemini-cli/settings.json, and empty user-level files). Prints the read-only mounts the
sandbox launcher must make (docs/hooks.md, "Managed settings and mounts").

Exit codes: 0 written, 1 a file could not be written, 2 usage error.

Options:
  -o, --out DIR        write the files under DIR (required; created when missing)
      --harness NAME   only this harness (repeatable; default: all of ${HARNESSES.join(', ')})
      --client PATH    the native hook client inside the sandbox (built by the supervisor into
                       .paddock/native/paddock-hook): no Node.js start per tool call
      --node PATH      without --client: Node.js inside the sandbox (default: this Node.js)
      --entry PATH     without --client: bin/paddock.js inside the sandbox (default: this one)
      --socket PATH    the hook socket inside the sandbox (default ${HOOK_SOCKET_PATH})
${JSON_HELP}
`;

/** `paddock hook install --out DIR`: the harnesses' managed hook settings and their mounts. */
export const hookInstallCommand: Command = {
  name: 'hook install',
  summary: 'write the managed harness settings that install the policy hook',
  usage: '--out DIR [--harness NAME]… [--client PATH]',
  help: INSTALL_HELP,
  options: {
    out: { type: 'string', short: 'o' },
    harness: { type: 'string', multiple: true },
    client: { type: 'string' },
    node: { type: 'string' },
    entry: { type: 'string' },
    socket: { type: 'string' },
    ...JSON_OPTION,
  },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `paddock hook install takes no arguments, got "${ctx.positionals[0]}"`,
      );
    const out = ctx.values['out'] as string | undefined;
    if (!out) throw new PaddockError('PDK_CLI_USAGE', 'paddock hook install needs --out DIR');
    const names = (ctx.values['harness'] as string[] | undefined) ?? [...HARNESSES];
    const unknown = names.find((name) => !HARNESSES.includes(name as Harness));
    if (unknown)
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `unknown harness "${unknown}"; harnesses: ${HARNESSES.join(', ')}`,
      );
    const client = ctx.values['client'] as string | undefined;
    const paths = client
      ? { clientPath: client }
      : {
          nodePath: (ctx.values['node'] as string | undefined) ?? process.execPath,
          entryPath: (ctx.values['entry'] as string | undefined) ?? ENTRY,
        };
    const options = {
      ...paths,
      socketPath: (ctx.values['socket'] as string | undefined) ?? HOOK_SOCKET_PATH,
    };
    for (const [flag, path] of Object.entries(options)) {
      if (!path.startsWith('/'))
        throw new PaddockError(
          'PDK_CLI_USAGE',
          `--${flag.replace('Path', '')} must be an absolute path inside the sandbox`,
        );
    }
    const mounts = await writeManagedSettings(
      resolve(ctx.cwd, out),
      [...new Set(names)] as Harness[],
      options,
    );
    if (ctx.values['json']) writeJson(ctx.stdout, { mounts });
    else {
      ctx.stdout.write('bind read-only into the sandbox (host -> sandbox):\n');
      for (const mount of mounts)
        ctx.stdout.write(`  ${mount.host} -> ${mount.sandbox}   # ${mount.harness}: ${mount.purpose}\n`);
      ctx.stdout.write(`and bind the hook server's socket at ${options.socketPath}\n`);
    }
    return 0;
  },
};
