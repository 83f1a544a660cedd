import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PaddockError } from '../../core/errors.ts';
import type {
  OcsfAttribute,
  OcsfClass,
  OcsfConstraints,
  OcsfDataType,
  OcsfEnum,
  OcsfRecord,
  OcsfSchema,
} from './schema-types.ts';

// Compiles the OCSF source schema (the ocsf-schema repository layout: dictionary.json,
// categories.json, events/, objects/, profiles/) into resolved classes and objects, the way
// the OCSF server does: `extends` chains merged child-over-parent, `$include`d profile
// attributes tagged with their profile, and every attribute merged over its dictionary entry.

type Json = Record<string, unknown>;

interface RawRecord {
  name: string;
  caption?: string;
  extends?: string;
  category?: string;
  uid?: number;
  attributes: Json;
  constraints?: OcsfConstraints;
  '@deprecated'?: unknown;
}

interface Resolved {
  attributes: Record<string, Json>;
  constraints: OcsfConstraints;
  category?: string;
}

const isPlain = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Child wins; nested plain objects (enums, attribute maps) are merged key by key. */
function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prior = out[key];
    out[key] = isPlain(prior) && isPlain(value) ? deepMerge(prior, value) : value;
  }
  return out;
}

function readJson(path: string): Json {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Json;
  } catch (error) {
    throw new PaddockError('PDK_AUDIT_READ', `OCSF schema file ${path} could not be read`, { cause: error });
  }
}

function readTree(dir: string): RawRecord[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json'))
    .map((file) => readJson(join(dir, file)) as unknown as RawRecord);
}

/** A record's own attributes, with `$include`d files expanded underneath them. */
function ownAttributes(raw: RawRecord, root: string): Record<string, Json> {
  let merged: Json = {};
  const includes = (raw.attributes['$include'] as string[] | undefined) ?? [];
  for (const include of includes) {
    const file = readJson(join(root, include));
    const profile = file['meta'] === 'profile' ? (file['name'] as string) : undefined;
    const attributes: Json = {};
    for (const [name, attribute] of Object.entries(file['attributes'] as Json)) {
      attributes[name] =
        profile && !('profile' in (attribute as Json)) ? { ...(attribute as Json), profile } : attribute;
    }
    merged = deepMerge(merged, attributes);
  }
  const own = Object.fromEntries(Object.entries(raw.attributes).filter(([name]) => name !== '$include'));
  return deepMerge(merged, own) as Record<string, Json>;
}

function resolver(table: Map<string, RawRecord>, root: string): (name: string) => Resolved {
  const cache = new Map<string, Resolved>();
  const resolve = (name: string): Resolved => {
    const hit = cache.get(name);
    if (hit) return hit;
    const raw = table.get(name);
    if (!raw)
      throw new PaddockError('PDK_AUDIT_READ', `OCSF schema: "${name}" is referenced but not defined`);
    const parent: Resolved = raw.extends ? resolve(raw.extends) : { attributes: {}, constraints: {} };
    const result: Resolved = {
      attributes: deepMerge(parent.attributes, ownAttributes(raw, root)) as Record<string, Json>,
      constraints: raw.constraints ?? parent.constraints,
      category: raw.category ?? parent.category,
    };
    cache.set(name, result);
    return result;
  };
  return resolve;
}

function toAttribute(name: string, spec: Json, dictionary: Json, objectNames: Set<string>): OcsfAttribute {
  const entry = dictionary[name];
  if (!isPlain(entry))
    throw new PaddockError('PDK_AUDIT_READ', `OCSF schema: attribute "${name}" is not in the dictionary`);
  const merged = deepMerge(entry, spec);
  const type = merged['type'] as string;
  const enumSpec = merged['enum'] as Record<string, Json> | undefined;
  return {
    name,
    type,
    isObject: objectNames.has(type),
    isArray: merged['is_array'] === true,
    requirement: (merged['requirement'] as OcsfAttribute['requirement'] | undefined) ?? 'optional',
    enum:
      enumSpec && Object.fromEntries(Object.entries(enumSpec).map(([id, v]) => [id, String(v['caption'])])),
    sibling: merged['sibling'] as string | undefined,
    profile: (merged['profile'] as string | null | undefined) ?? undefined,
    deprecated: merged['@deprecated'] !== undefined,
  };
}

function toRecord(
  raw: RawRecord,
  resolved: Resolved,
  dictionary: Json,
  objectNames: Set<string>,
): OcsfRecord {
  const attributes = new Map<string, OcsfAttribute>();
  for (const [name, spec] of Object.entries(resolved.attributes)) {
    attributes.set(name, toAttribute(name, spec, dictionary, objectNames));
  }
  return {
    name: raw.name,
    caption: raw.caption ?? raw.name,
    attributes,
    constraints: resolved.constraints,
    deprecated: raw['@deprecated'] !== undefined,
  };
}

/** The server's compile step names the class, its category and its type_uid values as enums. */
function classifyEnums(
  record: OcsfRecord,
  classUid: number,
  categoryUid: number,
  categoryCaption: string,
): void {
  const set = (name: string, values: OcsfEnum) => {
    const attribute = record.attributes.get(name);
    if (attribute) record.attributes.set(name, { ...attribute, enum: values });
  };
  const activities = record.attributes.get('activity_id')?.enum ?? {};
  set('class_uid', { [classUid]: record.caption });
  set('category_uid', { [categoryUid]: categoryCaption });
  set(
    'type_uid',
    Object.fromEntries(
      Object.entries(activities).map(([id, caption]) => [
        classUid * 100 + Number(id),
        `${record.caption}: ${caption}`,
      ]),
    ),
  );
}

function loadTypes(dictionary: Json): Map<string, OcsfDataType> {
  const types = new Map<string, OcsfDataType>();
  for (const [name, spec] of Object.entries(
    (dictionary['types'] as Json)['attributes'] as Record<string, Json>,
  )) {
    types.set(name, {
      name,
      base: (spec['type'] as string | undefined) ?? name,
      range: spec['range'] as [number, number] | undefined,
      maxLength: spec['max_len'] as number | undefined,
      pattern: typeof spec['regex'] === 'string' ? new RegExp(spec['regex']) : undefined,
      values: spec['values'] as unknown[] | undefined,
    });
  }
  return types;
}

/**
 * Loads and compiles an OCSF source schema directory (for example a checkout of ocsf-schema at
 * tag v1.8.0). Reads every file synchronously once; the result is immutable in practice.
 * @example const schema = loadOcsfSchema(new URL('../shared/ocsf/1.8.0/', import.meta.url));
 */
export function loadOcsfSchema(dir: string | URL): OcsfSchema {
  const root = typeof dir === 'string' ? dir : fileURLToPath(dir);
  const dictionaryFile = readJson(join(root, 'dictionary.json'));
  const dictionary = dictionaryFile['attributes'] as Json;
  const categories = (readJson(join(root, 'categories.json'))['attributes'] ?? {}) as Record<string, Json>;
  const version = readJson(join(root, 'version.json'))['version'] as string;

  const rawObjects = new Map(readTree(join(root, 'objects')).map((raw) => [raw.name, raw]));
  const objectNames = new Set(rawObjects.keys());
  const resolveObject = resolver(rawObjects, root);
  const objects = new Map<string, OcsfRecord>();
  for (const [name, raw] of rawObjects) {
    objects.set(name, toRecord(raw, resolveObject(name), dictionary, objectNames));
  }

  const rawEvents = new Map(readTree(join(root, 'events')).map((raw) => [raw.name, raw]));
  const resolveEvent = resolver(rawEvents, root);
  const classes = new Map<number, OcsfClass>();
  for (const [name, raw] of rawEvents) {
    if (raw.uid === undefined && name !== 'base_event') continue; // abstract category bases
    const resolved = resolveEvent(name);
    const category = resolved.category ? categories[resolved.category] : undefined;
    const categoryUid = (category?.['uid'] as number | undefined) ?? 0;
    const classUid = categoryUid * 1000 + (raw.uid ?? 0);
    const record = toRecord(raw, resolved, dictionary, objectNames);
    classifyEnums(
      record,
      classUid,
      categoryUid,
      (category?.['caption'] as string | undefined) ?? 'Uncategorized',
    );
    classes.set(classUid, { ...record, uid: classUid, categoryUid });
  }

  const profiles = new Set(readTree(join(root, 'profiles')).map((raw) => raw.name));
  return { version, classes, objects, types: loadTypes(dictionaryFile), profiles };
}
