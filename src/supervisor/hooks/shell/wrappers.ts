import { type Arg, programName } from './args.ts';
import { type OptionSpec, scanOptions } from './options.ts';
import { WRAPPER_OPTIONS } from './wrapper-options.ts';
import { checkAssignment } from './sensitive.ts';
import { HINT, ShellUnverifiable } from './unverifiable.ts';

// Commands that run another command: the wrapped argv (or script) is checked too, so that
// `sudo rm -rf /`, `xargs curl`, `find -exec sh -c '...'` and `bash -c '...'` cannot hide it.
// The wrapper itself stays a command of its own, checked like any other.

export type Unwrapped =
  /** Another argv runs: `openEnded` when more arguments are appended at run time (xargs). */
  | {
      readonly kind: 'argv';
      readonly argv: readonly Arg[];
      readonly via: string;
      readonly openEnded?: boolean;
      /** Whether the wrapped command runs in another directory (env -C, sudo -D). */
      readonly elsewhere?: boolean;
    }
  /** A shell script runs (bash -c, eval, watch, su -c). */
  | { readonly kind: 'script'; readonly source: string; readonly via: string }
  /** A shell runs whatever its standard input holds. */
  | { readonly kind: 'stdin'; readonly via: string };

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'posh', 'yash', 'rbash']);
const FOREIGN_SHELLS = new Set(['fish', 'csh', 'tcsh', 'nu', 'xonsh', 'elvish', 'pwsh']);
const BASH_LONG = ['--norc', '--noprofile', '--login', '--posix', '--noediting', '--restricted', '--verbose'];

function staticValues(args: readonly Arg[], what: string): string[] {
  if (args.some((arg) => arg.dynamic))
    throw new ShellUnverifiable(`${what} is only known at run time`, HINT.dynamicScript);
  return args.map((arg) => arg.value);
}

function script(source: string | undefined, via: string): Unwrapped[] {
  if (source === undefined) throw new ShellUnverifiable(`${via} without a script`, HINT.simpler);
  return [{ kind: 'script', source, via }];
}

function argv(
  args: readonly Arg[],
  via: string,
  extra: Partial<Extract<Unwrapped, { kind: 'argv' }>> = {},
): Unwrapped[] {
  return args.length === 0 ? [] : [{ kind: 'argv', argv: args, via, ...extra }];
}

/** env [-i] [-u NAME] [-C DIR] [-S STRING] [NAME=VALUE]… [COMMAND [ARG]…] */
function unwrapEnv(args: readonly Arg[], splitString: (text: string) => Arg[]): Unwrapped[] {
  let i = 1;
  let elsewhere = false;
  while (i < args.length) {
    const arg = args[i] as Arg;
    if (arg.dynamic) break;
    const v = arg.value;
    if (v === '--') {
      i += 1;
      break;
    }
    let split: string | undefined;
    if (v.startsWith('--split-string'))
      split = v.includes('=') ? v.slice(v.indexOf('=') + 1) : args[++i]?.value;
    else if (v === '-' || v === '--ignore-environment' || v === '--null' || v === '--debug') {
      /* no argument */
    } else if (v.startsWith('--unset') || v.startsWith('--chdir')) {
      if (v.startsWith('--chdir')) elsewhere = true;
      if (!v.includes('=')) i += 1;
    } else if (v.startsWith('--'))
      throw new ShellUnverifiable(`option ${v} of env is not verified`, HINT.simpler);
    else if (v.startsWith('-')) {
      for (let j = 1; j < v.length; j += 1) {
        const c = v[j] as string;
        if ('i0v'.includes(c)) continue;
        if (!'uCS'.includes(c))
          throw new ShellUnverifiable(`option -${c} of env is not verified`, HINT.simpler);
        const value = v.slice(j + 1) || args[++i]?.value;
        if (c === 'C') elsewhere = true;
        if (c === 'S') split = value ?? '';
        break;
      }
    } else if (v.includes('=')) {
      checkAssignment(v.slice(0, v.indexOf('=')), { value: v.slice(v.indexOf('=') + 1), dynamic: false });
    } else break;
    if (split !== undefined) {
      if (args[i]?.dynamic)
        throw new ShellUnverifiable('env -S string is only known at run time', HINT.dynamicScript);
      return unwrapEnv([args[0] as Arg, ...splitString(split), ...args.slice(i + 1)], splitString);
    }
    i += 1;
  }
  return argv(args.slice(i), 'env', { elsewhere });
}

/** sh/bash/zsh … [options] [-c SCRIPT [NAME [ARG…]] | FILE [ARG…]] */
function unwrapShell(name: string, args: readonly Arg[]): Unwrapped[] {
  let i = 1;
  let command = false;
  let stdin = false;
  while (i < args.length) {
    const arg = args[i] as Arg;
    if (arg.dynamic) {
      if (command) break;
      throw new ShellUnverifiable(`the arguments of ${name} are only known at run time`, HINT.dynamicScript);
    }
    const v = arg.value;
    if (v === '--' || v === '-') {
      i += 1;
      break;
    }
    if (v.startsWith('--')) {
      if (v === '--rcfile' || v === '--init-file') i += 1;
      else if (!BASH_LONG.includes(v))
        throw new ShellUnverifiable(`option ${v} of ${name} is not verified`, HINT.simpler);
    } else if (/^[-+]./.test(v)) {
      for (const c of v.slice(1)) {
        if (c === 'c') command = true;
        else if (c === 's') stdin = true;
        else if (c === 'o' || c === 'O') i += 1;
        else if (!'abefhiklmnprtuvxBCEHPT'.includes(c))
          throw new ShellUnverifiable(`option -${c} of ${name} is not verified`, HINT.simpler);
      }
    } else break;
    i += 1;
  }
  if (command) return script(staticValues(args.slice(i, i + 1), `the ${name} -c script`)[0], `${name} -c`);
  if (i < args.length && !stdin) return [];
  return [{ kind: 'stdin', via: name }];
}

/** find … -exec|-execdir|-ok|-okdir COMMAND … ; (or +) */
function unwrapFind(args: readonly Arg[]): Unwrapped[] {
  const found: Unwrapped[] = [];
  for (let i = 1; i < args.length; i += 1) {
    const v = (args[i] as Arg).value;
    if (!['-exec', '-execdir', '-ok', '-okdir'].includes(v)) continue;
    const end = args.findIndex((arg, k) => k > i && !arg.dynamic && (arg.value === ';' || arg.value === '+'));
    if (end === -1) throw new ShellUnverifiable(`find ${v} without a terminating ; or +`, HINT.simpler);
    const inner = args
      .slice(i + 1, end)
      .map((arg) => (arg.value.includes('{}') ? { ...arg, dynamic: true } : arg));
    found.push(
      ...argv(inner, `find ${v}`, {
        openEnded: (args[end] as Arg).value === '+',
        elsewhere: v.endsWith('dir'),
      }),
    );
    i = end;
  }
  return found;
}

/**
 * What a command runs besides itself.
 * @param splitString splits an `env -S` string into words (the shell word rules)
 */
export function unwrap(args: readonly Arg[], splitString: (text: string) => Arg[]): Unwrapped[] {
  const name = programName(args[0] as Arg);
  const rest = (spec: string, from = 1) => scanOptions(args, from, WRAPPER_OPTIONS[spec] as OptionSpec, name);
  if (SHELLS.has(name)) return unwrapShell(name, args);
  if (FOREIGN_SHELLS.has(name) && args.length > 1)
    throw new ShellUnverifiable(`scripts for ${name} are not verified`, HINT.simpler);
  switch (name) {
    case 'env':
      return unwrapEnv(args, splitString);
    case 'nohup':
    case 'builtin':
    case 'unbuffer':
      return argv(args.slice(1), name);
    case 'busybox':
      return argv(args.slice(1), name);
    case 'eval':
      return script(staticValues(args.slice(1), 'the eval argument').join(' '), 'eval');
    case 'find':
      return unwrapFind(args);
    case 'sudo': {
      const { index, seen } = rest('sudo');
      if (seen.has('-e')) throw new ShellUnverifiable('sudoedit (sudo -e) is not verified', HINT.simpler);
      if (
        (seen.has('-s') || seen.has('-i') || seen.has('--shell') || seen.has('--login')) &&
        index < args.length
      )
        return script(staticValues(args.slice(index), 'the sudo -s command').join(' '), 'sudo -s');
      return argv(args.slice(index), 'sudo', { elsewhere: seen.has('-D') || seen.has('--chdir') });
    }
    case 'doas':
    case 'setsid':
    case 'stdbuf':
    case 'time':
    case 'exec':
      return argv(args.slice(rest(name).index), name);
    case 'nice':
      return argv(args.slice(rest('nice').index), 'nice');
    case 'ionice': {
      const { index, seen } = rest('ionice');
      return ['-p', '-P', '-u', '--pid', '--pgid', '--uid'].some((o) => seen.has(o))
        ? []
        : argv(args.slice(index), 'ionice');
    }
    case 'timeout':
      return argv(args.slice(rest('timeout').index + 1), 'timeout');
    case 'command': {
      const { index, seen } = rest('command');
      return seen.has('-v') || seen.has('-V') ? [] : argv(args.slice(index), 'command');
    }
    case 'xargs': {
      const { index, seen } = rest('xargs');
      const replace =
        seen.get('-I') ?? seen.get('--replace') ?? (seen.has('-i') ? seen.get('-i') || '{}' : undefined);
      const inner = index < args.length ? args.slice(index) : [{ value: 'echo', dynamic: false }];
      const marked = replace
        ? inner.map((arg) => (arg.value.includes(replace) ? { ...arg, dynamic: true } : arg))
        : inner;
      return argv(marked, 'xargs', { openEnded: replace === undefined });
    }
    case 'su': {
      const { seen } = rest('su');
      const command = seen.get('-c') ?? seen.get('--command') ?? seen.get('--session-command');
      return command === undefined ? [] : script(command, 'su -c');
    }
    case 'watch': {
      const { index, seen } = rest('watch');
      if (seen.has('-x') || seen.has('--exec')) return argv(args.slice(index), 'watch -x');
      return index < args.length
        ? script(staticValues(args.slice(index), 'the watch command').join(' '), 'watch')
        : [];
    }
    default:
      return [];
  }
}
