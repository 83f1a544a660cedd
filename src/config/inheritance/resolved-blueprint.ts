import type { ErrorCode } from '../../core/errors.ts';
import type { ConfigProblem, FieldPath, LoadedDocument, SourceLocation } from '../repository.ts';
import { formatFieldPath } from '../repository.ts';
import type { Blueprint } from '../schema/index.ts';

/** Where a value came from when no file supplied it (a schema default such as ports [443]). */
export const DEFAULT_SOURCE = '(default)';

/**
 * A blueprint with its `extends` chain applied and named services expanded.
 *
 * @example
 * const { blueprint, sources } = resolveBlueprint(state, 'code-review');
 * sources.get('spec.services[0].hosts[0]'); // 'services/github.yaml'
 */
export interface ResolvedBlueprint {
  /** `metadata.name` of the blueprint this was resolved for. */
  readonly name: string;
  /** File of that blueprint, relative to the repository root (or the path given for a file outside it). */
  readonly file: string;
  /** This blueprint first, then its parent, up to the root: ['code-review', 'coding-base']. */
  readonly chain: readonly string[];
  /**
   * The effective blueprint, deep-frozen: this blueprint's apiVersion, kind, metadata, extends and goal;
   * every other spec field (tools.commands and tools.mcp counted separately) from the nearest blueprint
   * in the chain that sets it; services given by name only filled in from services/NAME.yaml.
   */
  readonly blueprint: Blueprint;
  /**
   * For every value in `blueprint` (containers and leaves), keyed by its field path as
   * `formatFieldPath` prints it (`spec.services[0].hosts[0]`): the file that supplied it,
   * relative to the repository root, or DEFAULT_SOURCE for a default filled in here.
   */
  readonly sources: ReadonlyMap<string, string>;
  /**
   * The position in its source file of the value at an effective path (the nearest
   * recorded ancestor when the path does not exist), so checks of the effective
   * blueprint can point at the line that has to change, in whichever file it is.
   */
  locate(path: FieldPath): SourceLocation;
}

/** A problem plus the error code `resolveBlueprint` throws for it. */
export interface CodedProblem {
  readonly code: ErrorCode;
  readonly problem: ConfigProblem;
}

/** Where one value of an effective blueprint was written. */
export interface ValueOrigin {
  /** The file, relative to the repository root, or DEFAULT_SOURCE. */
  readonly file: string;
  /** Its position in that file (for a default: the entry it was filled into). */
  at(): SourceLocation;
}

/** Origins of an effective blueprint's values, keyed by `formatFieldPath` of the effective path. */
export type Origins = Map<string, ValueOrigin>;

/** Where a value being recorded sits: in a document (at `path`), or a default filled into `entry`. */
export type OriginSource =
  | { readonly doc: Pick<LoadedDocument<unknown>, 'file' | 'locate'>; readonly path: FieldPath }
  | { readonly defaultIn: Pick<LoadedDocument<unknown>, 'locate'>; readonly entry: FieldPath };

/**
 * Records the origin of `value` at the effective path `path` and of everything
 * inside it. Inside a document, a nested value's position is its document path
 * extended the same way as its effective path.
 */
export function recordOrigins(origins: Origins, value: unknown, path: FieldPath, source: OriginSource): void {
  const origin: ValueOrigin =
    'doc' in source
      ? { file: source.doc.file, at: () => source.doc.locate(source.path) }
      : { file: DEFAULT_SOURCE, at: () => source.defaultIn.locate(source.entry) };
  origins.set(formatFieldPath(path), origin);
  const inner = (key: string | number): OriginSource =>
    'doc' in source ? { doc: source.doc, path: [...source.path, key] } : source;
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      recordOrigins(origins, item, [...path, index], inner(index));
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) recordOrigins(origins, item, [...path, key], inner(key));
    }
  }
}

/** Copies the origins of the value at `path` and everything inside it from a parent's map. */
export function copyOrigins(from: ReadonlyMap<string, ValueOrigin>, to: Origins, path: FieldPath): void {
  const prefix = formatFieldPath(path);
  for (const [key, origin] of from) {
    if (key === prefix || key.startsWith(`${prefix}.`) || key.startsWith(`${prefix}[`)) to.set(key, origin);
  }
}

/** Freezes a value and everything inside it, so a resolved parent shared by many children stays intact. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
