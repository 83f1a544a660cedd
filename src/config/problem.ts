import type { ConfigProblem, FieldPath, SourceLocation } from './repository.ts';
import { formatFieldPath } from './repository.ts';

// Small helpers every checker uses to build, order and bound its problems.

/** A problem at `location` about the field at `path`. */
export function problemAt(location: SourceLocation, path: FieldPath, message: string): ConfigProblem {
  return {
    file: location.file,
    line: location.line,
    column: location.column,
    path: formatFieldPath(path),
    message,
  };
}

/** A problem about a whole file (or a file that does not exist), located at its first character. */
export function fileProblem(file: string, message: string): ConfigProblem {
  return { file, line: 1, column: 1, path: '', message };
}

/**
 * Orders problems by file, then line, then column, so output reads top to bottom.
 * Problems at the same place keep the order they were found in (sort is stable).
 */
export function compareProblems(a: ConfigProblem, b: ConfigProblem): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column;
}

/**
 * Most problems reported for one file. A generated or corrupted file can produce
 * thousands of issues; past this many the rest add noise, not information, and
 * output (and CI logs) stay bounded.
 */
export const MAX_PROBLEMS_PER_FILE = 50;

/** Keeps the first MAX_PROBLEMS_PER_FILE problems of one file (in source order) and says how many were dropped. */
export function capProblems(file: string, problems: ConfigProblem[]): ConfigProblem[] {
  if (problems.length <= MAX_PROBLEMS_PER_FILE) return problems;
  const sorted = [...problems].sort(compareProblems);
  const kept = sorted.slice(0, MAX_PROBLEMS_PER_FILE);
  // Placed where the first left-out problem is, so it sorts after the ones shown.
  const next = sorted[MAX_PROBLEMS_PER_FILE]!;
  const dropped = problems.length - MAX_PROBLEMS_PER_FILE;
  kept.push({
    file,
    line: next.line,
    column: next.column,
    path: '',
    message: `${dropped} more problem${dropped === 1 ? '' : 's'} in this file not shown; fix the ones above first`,
  });
  return kept;
}

/** Describes a YAML value for "got ..." in messages: its type, and a short rendering of scalars. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string': {
      // Values are echoed so the operator recognises them; long ones are cut so a
      // pasted blob cannot flood the output.
      const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
      return `string ${JSON.stringify(shown)}`;
    }
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    case 'object':
      return value instanceof Uint8Array ? 'binary data' : 'a mapping';
    default:
      return typeof value;
  }
}
