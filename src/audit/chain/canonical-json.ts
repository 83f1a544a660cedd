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

/**
 * The canonical serialization of a JSON value: sorted keys, no whitespace.
 * Throws PDK_AUDIT_EVENT_INVALID for values JSON cannot round-trip.
 * @example canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, '$', out);
  return out.join('');
}
