// The one way shell analysis fails: the command cannot be verified with certainty. The hook
// answers deny with `reason` and `hint`, so the agent can retry with a simpler command.

export class ShellUnverifiable extends Error {
  /** What the analysis could not follow, e.g. "arithmetic expansion $((...))". */
  readonly reason: string;
  /** How to write the command so it can be verified. */
  readonly hint: string;

  constructor(reason: string, hint: string) {
    super(reason);
    this.name = 'ShellUnverifiable';
    this.reason = reason;
    this.hint = hint;
  }
}

export const HINT = {
  simpler: 'run the commands one at a time as plain words, without this construct',
  quotes: 'close every quote and here-document',
  arithmetic: 'compute the number in a separate step and pass it as a literal',
  dynamicName: 'name the program literally (not through a variable, glob or substitution)',
  dynamicScript: 'pass the script literally, not through a variable or substitution',
  function: 'run the commands directly instead of defining a function or alias',
  stdinScript: 'pass the script with -c or as a file instead of piping it into a shell',
  dynamicTarget: 'redirect to a literal path',
  environment: 'call the program by its full path and set tool options with flags, not environment',
  hiddenExec: 'run the program directly instead of through an option that executes a command',
} as const;
