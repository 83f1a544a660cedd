import { ERRORS, isPaddockError } from '../core/errors.ts';

/** Writes a value as pretty JSON with a trailing newline. */
export function writeJson(stream: NodeJS.WritableStream, value: unknown): void {
  stream.write(`${JSON.stringify(value, null, 2)}\n`);
}

interface LocatedProblem {
  file?: string;
  line?: number;
  column?: number;
  path?: string;
  message: string;
}

/** Formats a problem as `file:line:column field: message`, the form editors and CI logs link. */
export function formatProblem(problem: LocatedProblem): string {
  const where = [problem.file, problem.line, problem.column].filter((part) => part !== undefined).join(':');
  const field = problem.path ? `${problem.path}: ` : '';
  return `${where ? `${where} ` : ''}${field}${problem.message}`;
}

/** Renders any thrown value for stderr: code, message, the fix, and located problems if any. */
export function formatError(error: unknown, debug: boolean): string {
  if (isPaddockError(error)) {
    const lines = [`error ${error.code}: ${error.message}`];
    const problems = (error.details as { problems?: LocatedProblem[] } | undefined)?.problems;
    if (Array.isArray(problems)) for (const problem of problems) lines.push(`  ${formatProblem(problem)}`);
    lines.push(`  fix: ${error.fix}`);
    if (debug && error.cause) lines.push(`  cause: ${String((error.cause as Error).stack ?? error.cause)}`);
    return `${lines.join('\n')}\n`;
  }
  const detail = debug
    ? `\n${(error as Error)?.stack ?? String(error)}`
    : ' (set PADDOCK_LOG=debug for details)';
  return `error PDK_INTERNAL: ${ERRORS.PDK_INTERNAL.message}: ${(error as Error)?.message ?? String(error)}${detail}\n  fix: ${ERRORS.PDK_INTERNAL.fix}\n`;
}
