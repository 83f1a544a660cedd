import type { z } from 'zod';
import type { FieldPath } from './repository.ts';

// Finds which field names a schema allows at a given path, so an unknown field can
// be answered with "did you mean X?" from the real list. The schema is the single
// source of truth: no second list of field names to keep in sync.

/** The parts of a zod v4 schema definition this walk reads (zod keeps them on `_zod.def`). */
interface SchemaDef {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly innerType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly discriminator?: string;
  readonly in?: z.ZodType;
  readonly getter?: () => z.ZodType;
}

function defOf(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** Wrappers that do not change which keys an object takes. */
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'nonoptional', 'readonly', 'catch']);

/** Unwraps optional/default/pipe/lazy and picks the union member that `value` selects. */
function unwrap(schema: z.ZodType, value: unknown): z.ZodType[] {
  let current = schema;
  for (let guard = 0; guard < 32; guard++) {
    const def = defOf(current);
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else if (def.type === 'lazy' && def.getter) current = def.getter();
    else if (def.type === 'union' && def.options) return unionMembers(def, value);
    else return [current];
  }
  return [current];
}

function unionMembers(def: SchemaDef, value: unknown): z.ZodType[] {
  const options = def.options ?? [];
  const tag = def.discriminator;
  if (tag !== undefined && value !== null && typeof value === 'object') {
    const wanted = (value as Record<string, unknown>)[tag];
    // A discriminated union member's literal tag: pick the member the document chose.
    const chosen = options.filter((option) => {
      const tagSchema = defOf(option).shape?.[tag];
      const values = tagSchema && (defOf(tagSchema) as { values?: readonly unknown[] }).values;
      return Array.isArray(values) && values.includes(wanted);
    });
    if (chosen.length > 0) return chosen.flatMap((option) => unwrap(option, value));
  }
  return options.flatMap((option) => unwrap(option, value));
}

/**
 * Field names the object schema at `path` accepts, given the parsed document `data`
 * (which picks discriminated-union members). Empty when the path does not lead to an object.
 */
export function allowedKeysAt(schema: z.ZodType, path: FieldPath, data: unknown): string[] {
  let schemas = unwrap(schema, data);
  let value = data;
  for (const segment of path) {
    value =
      value !== null && typeof value === 'object'
        ? (value as Record<string | number, unknown>)[segment]
        : undefined;
    const next: z.ZodType[] = [];
    for (const candidate of schemas) {
      const def = defOf(candidate);
      const inner =
        def.type === 'object' ? def.shape?.[String(segment)] : def.type === 'array' ? def.element : undefined;
      if (inner) next.push(...unwrap(inner, value));
    }
    schemas = next;
  }
  const keys = new Set<string>();
  for (const candidate of schemas) for (const key of Object.keys(defOf(candidate).shape ?? {})) keys.add(key);
  return [...keys];
}
