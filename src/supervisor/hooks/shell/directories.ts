import { posix } from 'node:path';
import { type Arg, programName } from './args.ts';
import { HINT, ShellUnverifiable } from './unverifiable.ts';

// Where things happen: the working directory after `cd`, and the file a redirection names.

const QUIET_DEVICES = new Set([
  '/dev/null',
  '/dev/zero',
  '/dev/stdin',
  '/dev/stdout',
  '/dev/stderr',
  '/dev/tty',
]);

/**
 * The working directory after `cd`/`pushd`/`popd`: null when it cannot be known (`cd -`,
 * `cd "$D"`, a relative `cd` from an unknown directory, pushd/popd, a wrapped cd). CDPATH is not
 * followed: a relative `cd` resolves against the current directory.
 */
export function nextDirectory(
  args: readonly Arg[],
  cwd: string | null,
  home: string,
  wrapped: boolean,
): string | null {
  const operands = args.slice(1).filter((arg) => arg.dynamic || !/^-[LPe@]+$/.test(arg.value));
  const target = operands[0];
  if (wrapped || programName(args[0] as Arg) !== 'cd' || operands.length > 1) return null;
  if (!target) return home;
  if (target.dynamic || target.value === '-') return null;
  if (target.value.startsWith('/')) return posix.resolve(target.value);
  return cwd === null ? null : posix.resolve(cwd, target.value);
}

/**
 * The file a redirection names, absolute and normalized; a host and port for /dev/tcp and
 * /dev/udp; null for the terminal, standard streams and /dev/null.
 * @throws ShellUnverifiable when the target is only known at run time, or relative to an unknown directory
 */
export function redirectionTarget(
  arg: Arg,
  cwd: string | null,
): string | { host: string; port: number } | null {
  if (arg.dynamic)
    throw new ShellUnverifiable(
      `the file of a redirection (${arg.value}) is only known at run time`,
      HINT.dynamicTarget,
    );
  const value = arg.value;
  if (QUIET_DEVICES.has(value) || /^\/dev\/fd\/\d+$/.test(value)) return null;
  const socket = /^\/dev\/(tcp|udp)\/([^/]+)\/(\d{1,5})$/.exec(value);
  if (socket) return { host: socket[2] as string, port: Number(socket[3]) };
  if (value === '' || value.startsWith('/dev/tcp/') || value.startsWith('/dev/udp/'))
    throw new ShellUnverifiable(`redirection to "${value}"`, HINT.dynamicTarget);
  if (!value.startsWith('/') && cwd === null)
    throw new ShellUnverifiable(
      `the relative path "${value}" of a redirection after a cd`,
      'use an absolute path after changing directory',
    );
  return posix.resolve(cwd ?? '/', value);
}
