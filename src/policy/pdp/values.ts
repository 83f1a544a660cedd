// Cedar values as the fast evaluator (evaluate-policy.ts) holds them: strings, Longs (safe
// integers), booleans, entity references, sets and records. Equality follows Cedar: values of
// different types are unequal (never an error), sets compare as sets, records key by key.

/** An entity reference `Type::"id"`. */
export class EntityValue {
  readonly type: string;
  readonly id: string;
  #key: string | undefined;
  constructor(type: string, id: string) {
    this.type = type;
    this.id = id;
  }

  /** `Type::"id"` as one string, for map keys; computed on first use (a resource's may never be). */
  get key(): string {
    this.#key ??= entityKey(this.type, this.id);
    return this.#key;
  }
}

/** A Cedar set. Items keep their first-seen order; duplicates (by Cedar equality) are dropped. */
export class SetValue {
  readonly items: readonly Value[];
  constructor(items: readonly Value[]) {
    const unique: Value[] = [];
    for (const item of items) if (!unique.some((seen) => valuesEqual(seen, item))) unique.push(item);
    this.items = unique;
  }

  /** A set of strings known to be distinct (the request builder's own sets): no dedupe pass. */
  static ofDistinctStrings(items: readonly string[]): SetValue {
    const set = Object.create(SetValue.prototype) as { items: readonly Value[] };
    set.items = items;
    return set as SetValue;
  }

  has(value: Value): boolean {
    if (typeof value !== 'object') return this.items.includes(value);
    return this.items.some((item) => valuesEqual(item, value));
  }
}

/** A Cedar record: attribute name → value (a null-prototype object). */
export type RecordValue = { readonly [attribute: string]: Value };

export type Value = string | number | boolean | EntityValue | SetValue | RecordValue;

/** The map key of an entity: `Type::"id"` (ids are JSON-quoted, so no two entities share a key). */
export function entityKey(type: string, id: string): string {
  return `${type}::${JSON.stringify(id)}`;
}

/** Cedar `==`. */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof EntityValue) return b instanceof EntityValue && a.key === b.key;
  if (a instanceof SetValue) {
    if (!(b instanceof SetValue) || a.items.length !== b.items.length) return false;
    return a.items.every((item) => b.has(item));
  }
  if (b instanceof EntityValue || b instanceof SetValue) return false;
  const keysA = Object.keys(a);
  if (keysA.length !== Object.keys(b).length) return false;
  return keysA.every((key) => Object.hasOwn(b, key) && valuesEqual(a[key]!, b[key]!));
}

/** A record from plain entries (null prototype, so `has` never sees Object.prototype). */
export function recordOf(entries: Iterable<readonly [string, Value]>): RecordValue {
  const record = Object.create(null) as Record<string, Value>;
  for (const [key, value] of entries) record[key] = value;
  return record;
}

/** The JSON Cedar takes for a value (context and entity attributes). */
export function toCedarJson(value: Value): unknown {
  if (typeof value !== 'object') return value;
  if (value instanceof EntityValue) return { __entity: { type: value.type, id: value.id } };
  if (value instanceof SetValue) return value.items.map(toCedarJson);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toCedarJson(item)]));
}
