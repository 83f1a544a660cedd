import { type Arg, programName } from './args.ts';
import { checkAssignment } from './sensitive.ts';
import { HINT, ShellUnverifiable } from './unverifiable.ts';

// Bash builtins that change how later words are read or evaluated. Aliases, `enable`,
// `hash -p` and `shopt -s expand_aliases` make a name run something else; arithmetic contexts
// (`let`, `declare -i`, array subscripts, `test -v a[…]`) evaluate `$(...)` hidden inside
// variable values. These fail closed. `trap ACTION` runs ACTION later: it is parsed as a script.

const ARITHMETIC_TESTS = new Set(['-eq', '-ne', '-lt', '-le', '-gt', '-ge']);
const DECLARERS = new Set(['declare', 'typeset', 'local', 'export', 'readonly']);
const NAME_TAKERS = new Set(['unset', 'read', 'mapfile', 'readarray', 'getopts', 'wait']);

function subscript(command: string): ShellUnverifiable {
  return new ShellUnverifiable(`${command} with an array subscript`, HINT.arithmetic);
}

/** `[[ ... ]]`: arithmetic comparisons of run-time values evaluate them as expressions. */
export function checkTest(args: readonly Arg[]): void {
  if (args.some((arg) => !arg.dynamic && ARITHMETIC_TESTS.has(arg.value)) && args.some((arg) => arg.dynamic))
    throw new ShellUnverifiable('arithmetic comparison of a run-time value in [[ ]]', HINT.arithmetic);
  checkVariableTest(args, '[[');
}

function checkVariableTest(args: readonly Arg[], command: string): void {
  args.forEach((arg, index) => {
    if ((arg.value === '-v' || arg.value === '-R') && args[index + 1]?.value.includes('['))
      throw subscript(command);
  });
}

function checkDeclaration(name: string, args: readonly Arg[]): void {
  for (const arg of args.slice(1)) {
    if (/^[-+]/.test(arg.value) && !arg.value.includes('=')) {
      if (/[in]/.test(arg.value)) throw new ShellUnverifiable(`${name} ${arg.value}`, HINT.arithmetic);
      continue;
    }
    const eq = arg.value.indexOf('=');
    const variable = eq === -1 ? arg.value : arg.value.slice(0, eq);
    if (variable.includes('[')) throw subscript(name);
    if (eq === -1) {
      if (arg.dynamic)
        throw new ShellUnverifiable(`${name} of a variable named at run time`, HINT.dynamicName);
      continue;
    }
    if (/[$`"'\\]/.test(variable))
      throw new ShellUnverifiable(`${name} of a variable named at run time`, HINT.dynamicName);
    checkAssignment(variable, { value: arg.value.slice(eq + 1), dynamic: arg.dynamic });
  }
}

/**
 * Throws for builtins that make the command line mean something the analysis cannot see.
 * @param runScript analyses a script the builtin will run (the action of `trap`)
 */
export function checkBuiltin(args: readonly Arg[], runScript: (source: string, via: string) => void): void {
  const name = programName(args[0] as Arg);
  const values = args.map((arg) => arg.value);
  if (DECLARERS.has(name)) {
    checkDeclaration(name, args);
    return;
  }
  if (NAME_TAKERS.has(name)) {
    if (args.slice(1).some((arg) => !arg.value.startsWith('-') && arg.value.includes('[')))
      throw subscript(name);
    return;
  }
  switch (name) {
    case 'alias':
      throw new ShellUnverifiable('alias definition', HINT.function);
    case 'enable':
      throw new ShellUnverifiable('enable changes which builtins run', HINT.simpler);
    case 'let':
      throw new ShellUnverifiable('arithmetic with let', HINT.arithmetic);
    case 'hash':
      if (values.some((v) => /^-[a-z]*p/.test(v)))
        throw new ShellUnverifiable('hash -p maps a name to another program', HINT.simpler);
      return;
    case 'shopt':
      if (values.includes('expand_aliases'))
        throw new ShellUnverifiable('shopt expand_aliases', HINT.function);
      return;
    case 'printf':
      checkVariableTest(args, 'printf -v');
      return;
    case 'test':
    case '[':
      checkVariableTest(args, name);
      return;
    case 'trap': {
      const operands = args.slice(1).filter((arg) => arg.value !== '--');
      if (operands.length < 2 || /^-[lp]$/.test(operands[0]?.value ?? '')) return;
      const action = operands[0] as Arg;
      if (action.dynamic)
        throw new ShellUnverifiable('the trap action is only known at run time', HINT.dynamicScript);
      if (action.value !== '' && action.value !== '-') runScript(action.value, 'trap');
      return;
    }
    default:
      return;
  }
}
