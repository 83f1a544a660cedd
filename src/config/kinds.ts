import type { z } from 'zod';
import {
  assignmentsSchema,
  blueprintSchema,
  platformSchema,
  profileSchema,
  serviceSchema,
} from './schema/index.ts';

// The kinds of desired-state document, where each lives in the repository and the
// file its JSON Schema is written to. The loader, `paddock validate` and
// `paddock schema` all read this one table.

export interface KindSpec {
  /** The `kind:` value documents of this kind carry. */
  readonly kind: 'Platform' | 'Blueprint' | 'Profile' | 'Service' | 'Assignments';
  /** What operators call one document of this kind, in messages. */
  readonly noun: string;
  readonly schema: z.ZodType;
  /** Where documents of this kind live: a single file (without extension) or a folder of files. */
  readonly location: { readonly file: string } | { readonly folder: string };
  /** File name `paddock schema --out` writes. */
  readonly schemaFile: string;
}

export const KINDS: readonly KindSpec[] = [
  {
    kind: 'Platform',
    noun: 'platform',
    schema: platformSchema,
    location: { file: 'paddock' },
    schemaFile: 'paddock.schema.json',
  },
  {
    kind: 'Blueprint',
    noun: 'blueprint',
    schema: blueprintSchema,
    location: { folder: 'blueprints' },
    schemaFile: 'blueprint.schema.json',
  },
  {
    kind: 'Profile',
    noun: 'profile',
    schema: profileSchema,
    location: { folder: 'profiles' },
    schemaFile: 'profile.schema.json',
  },
  {
    kind: 'Service',
    noun: 'service',
    schema: serviceSchema,
    location: { folder: 'services' },
    schemaFile: 'service.schema.json',
  },
  {
    kind: 'Assignments',
    noun: 'assignments',
    schema: assignmentsSchema,
    location: { file: 'assignments' },
    schemaFile: 'assignments.schema.json',
  },
];

/** Extensions of desired-state YAML files, in the order they are preferred. */
export const YAML_EXTENSIONS = ['.yaml', '.yml'] as const;

/** Where a document of `spec` belongs, as shown in messages: `paddock.yaml` or `blueprints/`. */
export function kindLocation(spec: KindSpec): string {
  return 'file' in spec.location ? `${spec.location.file}.yaml` : `${spec.location.folder}/`;
}

/**
 * Finds a kind by a name an operator would type: the kind (`Blueprint`, any case),
 * its folder (`blueprints`) or its file (`paddock`).
 */
export function findKind(name: string): KindSpec | undefined {
  const wanted = name.toLowerCase();
  return KINDS.find(
    (spec) =>
      spec.kind.toLowerCase() === wanted ||
      ('file' in spec.location ? spec.location.file : spec.location.folder) === wanted,
  );
}
