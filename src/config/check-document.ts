import { KINDS, type KindSpec, kindLocation } from './kinds.ts';
import { compareProblems, problemAt } from './problem.ts';
import type { ConfigProblem, LoadedDocument } from './repository.ts';
import { parseYamlDocument } from './yaml-document.ts';
import { zodProblems } from './zod-problems.ts';

// Checks one file's text against the kind its location in the repository calls
// for: YAML safety first, then that the document is the right kind, then the schema.

export interface CheckedDocument<T> {
  /** Present only when the file has no problems at all. */
  readonly document: LoadedDocument<T> | undefined;
  readonly problems: ConfigProblem[];
  /**
   * The metadata.name a file with problems declares, when it has a string there:
   * references to it are not reported again as unknown names.
   */
  readonly declaredName?: string;
}

/** Parses `text` (the content of `file`) as a document of `spec.kind` and reports every problem. */
export function checkDocument<T>(file: string, text: string, spec: KindSpec): CheckedDocument<T> {
  const parsed = parseYamlDocument(file, text);
  if (parsed.problems.length > 0) return { document: undefined, problems: parsed.problems };
  const { data, locator } = parsed;

  const declaredName = nameOf(data);
  const misplaced = misplacedKind(data, spec);
  if (misplaced) {
    // Checking a Profile against the Blueprint schema would only add noise.
    return { document: undefined, problems: [problemAt(locator.locate(['kind']), ['kind'], misplaced)] };
  }

  const result = spec.schema.safeParse(data, { reportInput: true });
  if (!result.success) {
    const problems = zodProblems(result.error.issues, spec.schema, data, locator);
    return { document: undefined, problems: problems.sort(compareProblems), declaredName };
  }
  const value = deepFreeze(result.data) as T;
  return { document: { value, file, locate: (path) => locator.locate(path) }, problems: [] };
}

function nameOf(data: unknown): string | undefined {
  const metadata = (data as { metadata?: unknown } | null)?.metadata;
  const name = (metadata as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** A message when the document names another known kind than its location holds. */
function misplacedKind(data: unknown, spec: KindSpec): string | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const kind = (data as Record<string, unknown>)['kind'];
  if (typeof kind !== 'string' || kind === spec.kind) return undefined;
  const other = KINDS.find((candidate) => candidate.kind === kind);
  if (other) {
    return `a ${kind} does not belong in ${kindLocation(spec)}, which holds kind ${spec.kind}; move the file to ${kindLocation(other)} or change its kind`;
  }
  // Unknown kinds (typos included) are left to the schema, which suggests the right one.
  return undefined;
}

/**
 * Freezes a validated document so no consumer can change desired state after it
 * was checked (validate once, then pass the frozen result around).
 */
function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === null || typeof item !== 'object' || Object.isFrozen(item)) continue;
    Object.freeze(item);
    for (const child of Object.values(item)) stack.push(child);
  }
  return value;
}
