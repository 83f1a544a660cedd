import type { Arg } from './args.ts';
import { HINT, ShellUnverifiable } from './unverifiable.ts';

// Variables that change which program a name runs, or that make a program run a command the
// analysis cannot see: `PATH=/tmp/x git status` runs /tmp/x/git, `GIT_SSH_COMMAND='curl …' git
// fetch` runs curl, `BASH_ENV=f bash -c true` sources f, `PS4='$(curl …)'` runs curl on `set -x`.
// Assigning one (as a prefix, through env, export, declare, …) fails closed.

const NAMES = new Set([
  'PATH',
  'BASH_ENV',
  'ENV',
  'IFS',
  'PS1',
  'PS2',
  'PS3',
  'PS4',
  'PROMPT_COMMAND',
  'SHELLOPTS',
  'BASHOPTS',
  'BASH_LOADABLES_PATH',
  'EXECIGNORE',
  'NODE_OPTIONS',
  'PYTHONSTARTUP',
  'PYTHONINSPECT',
  'PERL5OPT',
  'PERL5DB',
  'RUBYOPT',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_EXEC_PATH',
  'GIT_PROXY_COMMAND',
  'GIT_ASKPASS',
  'SSH_ASKPASS',
  'GIT_EXTERNAL_DIFF',
  'GIT_CONFIG_PARAMETERS',
  'GIT_CONFIG_COUNT',
  'GIT_CONFIG_GLOBAL',
  'GIT_CONFIG_SYSTEM',
  'GIT_TEMPLATE_DIR',
  'BROWSER',
]);

const PREFIXES = ['LD_', 'DYLD_', 'BASH_FUNC_', 'GIT_CONFIG_KEY_', 'GIT_CONFIG_VALUE_'];

/** Variables naming a program to run, allowed only with these harmless values. */
const PROGRAM_VARIABLES = new Set([
  'EDITOR',
  'VISUAL',
  'PAGER',
  'GIT_PAGER',
  'MANPAGER',
  'GIT_EDITOR',
  'GIT_SEQUENCE_EDITOR',
]);
const HARMLESS_PROGRAMS = new Set(['', 'cat', 'less', 'more', 'true', ':']);

/**
 * Throws when assigning `value` to `name` could run a command the analysis cannot see.
 * @example checkAssignment('GIT_PAGER', { value: 'cat', dynamic: false }) // fine
 */
export function checkAssignment(name: string, value: Arg): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !name.startsWith('BASH_FUNC_'))
    throw new ShellUnverifiable(`assignment to "${name}"`, HINT.simpler);
  if (PROGRAM_VARIABLES.has(name)) {
    if (!value.dynamic && HARMLESS_PROGRAMS.has(value.value)) return;
    throw new ShellUnverifiable(`${name} names a program to run`, HINT.environment);
  }
  if (NAMES.has(name) || PREFIXES.some((prefix) => name.startsWith(prefix)))
    throw new ShellUnverifiable(`setting ${name} changes what programs run`, HINT.environment);
}
