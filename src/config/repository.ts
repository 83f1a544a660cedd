import type { Assignments, Blueprint, Platform, Profile, Service } from './schema/index.ts';

// The shapes shared by the loader (load-repository.ts), validation and blueprint
// inheritance. Files are named relative to the repository root, as users see them.

/** A position in a desired-state file; line and column are 1-based. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** One problem found in the desired state: where, which field, what is wrong. */
export interface ConfigProblem extends SourceLocation {
  /** Dotted field path inside the document, e.g. `spec.services[0].hosts[1]`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

export type FieldPath = readonly (string | number)[];

/** A parsed and schema-checked document, with a way back to its source positions. */
export interface LoadedDocument<T> {
  readonly value: T;
  readonly file: string;
  /** The position of the value at `path` (the nearest existing ancestor when the field is absent). */
  locate(path: FieldPath): SourceLocation;
}

/** Everything in a desired-state directory that parsed and matched its schema. */
export interface DesiredState {
  /** Absolute path of the repository root. */
  readonly root: string;
  readonly platform: LoadedDocument<Platform> | undefined;
  readonly blueprints: ReadonlyMap<string, LoadedDocument<Blueprint>>;
  readonly profiles: ReadonlyMap<string, LoadedDocument<Profile>>;
  readonly services: ReadonlyMap<string, LoadedDocument<Service>>;
  readonly assignments: LoadedDocument<Assignments> | undefined;
  /** policies/*.cedar by file name (relative), raw text. */
  readonly policies: ReadonlyMap<string, string>;
}

/** Formats a field path the way problems print it: `spec.services[0].hosts`. */
export function formatFieldPath(path: FieldPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  return out;
}
