import { isAbsolute, relative } from 'node:path';
import {
  type ConfigProblem,
  compareProblems,
  countProblems,
  type DesiredState,
  validateRepository,
} from '../../config/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { checkPolicyFiles } from '../../policy/index.ts';
import { CONFIG_HELP, CONFIG_OPTION, type Command, JSON_HELP, JSON_OPTION } from '../command.ts';
import { resolveConfigDir } from '../config-dir.ts';
import { formatProblem, writeJson } from '../output.ts';

const HELP = `Checks every file of a desired-state directory (paddock.yaml, blueprints/, profiles/,
services/, assignments.yaml, policies/) against its schema, the names documents use for
each other, and blueprint inheritance. Every problem of every file is listed, as
\`file:line:column field: message\`, sorted by file and line.

DIR is the directory to check (default: --config, else $PADDOCK_CONFIG, else the
current directory). In text output file names are relative to the current directory
(absolute when DIR is outside it); --json prints
{"ok": bool, "dir": DIR, "problems": [{file, line, column, path, message}]}
with file names relative to DIR.

Exit codes: 0 valid, 1 problems found (or DIR missing), 2 usage error.

Options:
${CONFIG_HELP}
${JSON_HELP}
`;

/** `paddock validate [DIR]`: the check CI runs on every change to the desired-state repository. */
export const validateCommand: Command = {
  name: 'validate',
  summary: 'check a desired-state directory and list every problem',
  usage: '[DIR]',
  help: HELP,
  options: { ...CONFIG_OPTION, ...JSON_OPTION },
  async run(ctx) {
    if (ctx.positionals.length > 1) {
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `paddock validate takes one DIR, got ${ctx.positionals.length}`,
      );
    }
    const dir = resolveConfigDir(ctx, ctx.positionals[0]);
    const validated = await validateRepository(dir);
    const { state } = validated;
    // Config cannot import policy, so the Cedar check of policies/*.cedar (syntax, annotations,
    // the Paddock schema) joins here, where both are in reach.
    const problems = [...validated.problems, ...cedarProblems(state)].sort(compareProblems);
    if (ctx.values['json']) {
      writeJson(ctx.stdout, { ok: problems.length === 0, dir: state.root, problems });
      return problems.length === 0 ? 0 : 1;
    }
    const shown = displayPath(ctx.cwd, state.root);
    if (problems.length > 0) {
      // Paths relative to where the command runs, so terminals and editors can open them.
      const prefix = shown === '.' ? '' : `${shown}/`;
      for (const problem of problems)
        ctx.stdout.write(`${formatProblem({ ...problem, file: prefix + problem.file })}\n`);
      const files = new Set(problems.map((problem: ConfigProblem) => problem.file)).size;
      ctx.stdout.write(`${countProblems(problems.length, files)}\n`);
      return 1;
    }
    ctx.stdout.write(`${shown}: valid (${summarize(state)})\n`);
    return 0;
  },
};

function cedarProblems(state: DesiredState): ConfigProblem[] {
  if (state.policies.size === 0) return [];
  const files = [...state.policies].map(([file, text]) => ({ file, text }));
  return checkPolicyFiles(files).map(({ file, line, column, path, message }) => ({
    file,
    line,
    column,
    path,
    message,
  }));
}

/** `dir` relative to `cwd` when it is inside it ('.' for cwd itself), else absolute. */
export function displayPath(cwd: string, dir: string): string {
  const shown = relative(cwd, dir);
  if (shown === '') return '.';
  return shown.startsWith('..') || isAbsolute(shown) ? dir : shown;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** `6 blueprints, 3 profiles, 7 services, assignments for 4 users / 2 groups`. */
export function summarize(state: DesiredState): string {
  const users = new Set<string>();
  const groups = new Set<string>();
  for (const assignment of state.assignments?.value.spec.assignments ?? []) {
    for (const user of assignment.users) users.add(user);
    for (const group of assignment.groups) groups.add(group);
  }
  return [
    plural(state.blueprints.size, 'blueprint'),
    plural(state.profiles.size, 'profile'),
    plural(state.services.size, 'service'),
    `assignments for ${plural(users.size, 'user')} / ${plural(groups.size, 'group')}`,
  ].join(', ');
}
