import { PaddockError } from '../../core/errors.ts';

// Canonical JSON for hashing, after RFC 8785 (JCS) for the value types audit records hold:
// object members sorted by UTF-16 code units, no whitespace, strings escaped as
// JSON.stringify does (which matches JCS), numbers in ECMAScript shortest form (JCS's rule,
// with -0 as 0). Undefined object members are skipped, as JSON.parse(JSON.stringify(x)) would,
// so a record hashes the same before it is written and after it is read back. Anything JSON
// cannot round-trip exactly (NaN, Infinity, bigint, functions, class instances, undefined in
// arrays) is refused rather than silently changed.

function fail(path: string, what: string): never {
  throw new PaddockError(
    'PDK_AUDIT_EVENT_INVALID',
    `audit record at ${path} is ${what}, which JSON cannot represent exactly`,
  );
}

function write(value: unknown, path: string, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(path, String(value));
      out.push(Object.is(value, -0) ? '0' : String(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object': {
      if (value === null) {
        out.push('null');
        return;
      }
      if (Array.isArray(value)) {
        out.push('[');
        value.forEach((item, index) => {
          if (index > 0) out.push(',');
          if (item === undefined) fail(`${path}[${index}]`, 'undefined');
          write(item, `${path}[${index}]`, out);
        });
        out.push(']');
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null)
        fail(path, `a ${proto?.constructor?.name ?? 'non-plain'} object`);
      const keys = Object.keys(value)
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .sort();
      out.push('{');
      keys.forEach((key, index) => {
        if (index > 0) out.push(',');
        out.push(JSON.stringify(key), ':');
        write((value as Record<string, unknown>)[key], `${path}.${key}`, out);
      });
      out.push('}');
      return;
    }
    default:
      fail(path, `a ${typeof value}`);
  }
}

// The fastest path, for values already in canonical order (what a chain writer stores, and what
// ingest gets back after the wire's JSON.parse): nothing is copied, the native JSON.stringify
// writes the text. It checks the order JSON.stringify itself enumerates (for-in, the same own
// enumerable keys in the same order for plain objects), so integer-like keys and `__proto__`
// need no special case here: they are accepted only when that order is already sorted.
function inCanonicalOrder(value: unknown): boolean {
  if (typeof value !== 'object') {
    if (typeof value === 'string' || typeof value === 'boolean') return true;
    return typeof value === 'number' && Number.isFinite(value);
  }
  if (value === null) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!inCanonicalOrder(value[i])) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  let previous: string | undefined;
  for (const key in value) {
    if (previous !== undefined && previous >= key) return false;
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined || !inCanonicalOrder(member)) return false;
    previous = key;
  }
  return true;
}

// The fast path: a copy with every object's members inserted in sorted order, serialized by
// the native JSON.stringify (which writes strings and numbers exactly as JCS does). V8 lists
// integer-like keys ("10", "9") first and in numeric order whatever the insertion order, so an
// object with one, or any value the careful writer would refuse, takes the careful path.
const NOT_FAST = Symbol('not fast');

/** Keys the fast path cannot copy faithfully: integer-like ones, and `__proto__` (assigning it sets the prototype). */
function isIndexLike(key: string): boolean {
  const first = key.charCodeAt(0);
  if (first === 95) return key === '__proto__';
  return first >= 48 && first <= 57 && /^(?:0|[1-9][0-9]*)$/.test(key);
}

function sortedCopy(value: unknown): unknown {
  if (typeof value !== 'object') {
    if (typeof value === 'number') return Number.isFinite(value) ? value : NOT_FAST;
    return typeof value === 'string' || typeof value === 'boolean' ? value : NOT_FAST;
  }
  if (value === null) return null;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const copy = sortedCopy(item);
      if (copy === NOT_FAST) return NOT_FAST;
      if (copy !== item && !out) out = value.slice(0, i);
      out?.push(copy);
    }
    return out ?? value;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return NOT_FAST;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  // An object already in sorted order whose members need no copy is used as it is: most small
  // objects of an event are, and not allocating them is most of the speed.
  let reuse = true;
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) >= (keys[i] as string)) {
      reuse = false;
      break;
    }
  }
  if (!reuse) keys.sort();
  const copies: unknown[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const member = record[key];
    if (isIndexLike(key)) return NOT_FAST;
    if (member === undefined) {
      reuse = false;
      continue;
    }
    const copy = sortedCopy(member);
    if (copy === NOT_FAST) return NOT_FAST;
    if (copy !== member) reuse = false;
    copies[i] = copy;
  }
  if (reuse) return value;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    if (copies[i] !== undefined) out[keys[i] as string] = copies[i];
  }
  return out;
}

/**
 * The canonical serialization of a JSON value: sorted keys, no whitespace.
 * Throws PDK_AUDIT_EVENT_INVALID for values JSON cannot round-trip.
 * @example canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return canonicalize(value).text;
}

/**
 * The canonical text and a value whose plain JSON.stringify gives that same text (its objects'
 * members in sorted order; the input itself when it already is, or when it has integer-like keys).
 * The chain writer stores that value, so its lines carry events in canonical order and whoever
 * re-canonicalizes them after JSON.parse (the control plane's ingest) copies nothing.
 */
export function canonicalize(value: unknown): { readonly text: string; readonly value: unknown } {
  if (inCanonicalOrder(value)) return { text: JSON.stringify(value), value };
  const copy = sortedCopy(value);
  if (copy !== NOT_FAST) return { text: JSON.stringify(copy), value: copy };
  const out: string[] = [];
  write(value, '$', out);
  return { text: out.join(''), value };
}
