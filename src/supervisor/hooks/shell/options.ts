import type { Arg } from './args.ts';
import { HINT, ShellUnverifiable } from './unverifiable.ts';

// Scans the options of a wrapper command (env, sudo, timeout, xargs, …) to find where the
// wrapped command starts. An option the table does not know, or an option only known at run
// time, fails closed: guessing wrong would check the wrong word as the program.

export interface OptionSpec {
  /** Short options without an argument, e.g. "i0v". */
  readonly flags?: string;
  /** Short options with an argument (the rest of the cluster, or the next word), e.g. "uC". */
  readonly withArg?: string;
  /** Short options whose argument is optional and only ever attached (-i, -iREPL), e.g. "il". */
  readonly optionalArg?: string;
  readonly longFlags?: readonly string[];
  /** Long options with an argument, as `--name=value` or `--name value`. */
  readonly longWithArg?: readonly string[];
  /** Whether `-N` (a number) is an option, as in `nice -10`. */
  readonly numeric?: boolean;
}

export interface ScannedOptions {
  /** Index of the first word after the options. */
  readonly index: number;
  /** Every option seen (`-u`, `--user`), with its argument or "". */
  readonly seen: ReadonlyMap<string, string>;
}

function unknown(command: string, option: string): ShellUnverifiable {
  return new ShellUnverifiable(`option ${option} of ${command} is not verified`, HINT.simpler);
}

/**
 * Scans options from `start` to the first operand (or past `--`).
 * @example scanOptions(argv, 1, { withArg: 'n' }, 'nice') // nice -n 5 make → index 3
 */
export function scanOptions(
  args: readonly Arg[],
  start: number,
  spec: OptionSpec,
  command: string,
): ScannedOptions {
  const seen = new Map<string, string>();
  let i = start;
  while (i < args.length) {
    const arg = args[i] as Arg;
    if (arg.dynamic) {
      if (!/^-/.test(arg.value)) return { index: i, seen };
      throw new ShellUnverifiable(`an option of ${command} is only known at run time`, HINT.dynamicName);
    }
    const v = arg.value;
    if (v === '--') return { index: i + 1, seen };
    if (!v.startsWith('-') || v === '-') return { index: i, seen };
    if (v.startsWith('--')) {
      const eq = v.indexOf('=');
      const name = eq === -1 ? v : v.slice(0, eq);
      if (spec.longFlags?.includes(name) && eq === -1) seen.set(name, '');
      else if (spec.longWithArg?.includes(name)) {
        if (eq !== -1) seen.set(name, v.slice(eq + 1));
        else {
          i += 1;
          const next = args[i];
          if (!next || next.dynamic) throw unknown(command, name);
          seen.set(name, next.value);
        }
      } else throw unknown(command, name);
      i += 1;
      continue;
    }
    if (spec.numeric && /^-\d+$/.test(v)) {
      seen.set(v, '');
      i += 1;
      continue;
    }
    for (let j = 1; j < v.length; j += 1) {
      const c = v[j] as string;
      const rest = v.slice(j + 1);
      if (spec.flags?.includes(c)) seen.set(`-${c}`, '');
      else if (spec.optionalArg?.includes(c)) {
        seen.set(`-${c}`, rest);
        break;
      } else if (spec.withArg?.includes(c)) {
        if (rest) seen.set(`-${c}`, rest);
        else {
          i += 1;
          const next = args[i];
          if (!next || next.dynamic) throw unknown(command, `-${c}`);
          seen.set(`-${c}`, next.value);
        }
        break;
      } else throw unknown(command, `-${c}`);
    }
    i += 1;
  }
  return { index: i, seen };
}
