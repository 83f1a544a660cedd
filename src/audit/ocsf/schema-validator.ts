import type { OcsfAttribute, OcsfProblem, OcsfRecord, OcsfSchema } from './schema-types.ts';

// Checks one event against a compiled OCSF schema, following the OCSF server's validator:
// required attributes (inherited ones included), data types and their ranges/patterns, nested
// objects recursively, enum ids and their caption siblings, constraints, profiles, and the
// classification arithmetic. Stricter than the server on purpose: an unknown attribute, a caption
// that disagrees with its id or a deprecated attribute is a problem, not a warning, because every
// event we check was built by our own code.

type Json = Record<string, unknown>;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

const isPlain = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

const describe = (value: unknown) =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : `${typeof value} ${JSON.stringify(value)}`;

class Checker {
  readonly problems: OcsfProblem[] = [];
  readonly #schema: OcsfSchema;
  readonly #profiles: ReadonlySet<string>;

  constructor(schema: OcsfSchema, profiles: ReadonlySet<string>) {
    this.#schema = schema;
    this.#profiles = profiles;
  }

  report(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  record(record: OcsfRecord, value: Json, path: string, kind: 'class' | 'object'): void {
    const active = new Map(
      [...record.attributes].filter(([, a]) => !a.profile || this.#profiles.has(a.profile)),
    );
    for (const attribute of active.values()) {
      const item = value[attribute.name];
      const at = join(path, attribute.name);
      if (item === undefined || item === null) {
        if (attribute.requirement === 'required')
          this.report(at, `required attribute of ${kind} "${record.name}" is missing`);
        continue;
      }
      if (attribute.deprecated) this.report(at, `attribute is deprecated in OCSF ${this.#schema.version}`);
      this.value(attribute, item, at);
      if (attribute.enum) this.enumValue(attribute, item, value, path);
    }
    // An object with no attributes (`object`, used by `unmapped`) is open-ended by definition.
    if (record.attributes.size > 0) {
      for (const key of Object.keys(value)) {
        if (active.has(key)) continue;
        const profile = record.attributes.get(key)?.profile;
        this.report(
          join(path, key),
          profile
            ? `attribute belongs to profile "${profile}", which metadata.profiles does not list`
            : `unknown attribute: not defined in ${kind} "${record.name}"`,
        );
      }
    }
    const { at_least_one: atLeastOne, just_one: justOne } = record.constraints;
    const present = (names: readonly string[]) => names.filter((name) => value[name] !== undefined).length;
    if (atLeastOne && present(atLeastOne) === 0) {
      this.report(
        path || '(event)',
        `${kind} "${record.name}" needs at least one of: ${atLeastOne.join(', ')}`,
      );
    }
    if (justOne && present(justOne) !== 1) {
      this.report(path || '(event)', `${kind} "${record.name}" needs exactly one of: ${justOne.join(', ')}`);
    }
  }

  value(attribute: OcsfAttribute, value: unknown, path: string): void {
    if (!attribute.isArray) {
      this.single(attribute, value, path);
    } else if (!Array.isArray(value)) {
      this.report(path, `expected an array of ${attribute.type}, got ${describe(value)}`);
    } else {
      value.forEach((element, index) => {
        this.single(attribute, element, `${path}[${index}]`);
      });
    }
  }

  single(attribute: OcsfAttribute, value: unknown, path: string): void {
    if (!attribute.isObject) {
      const problem = this.primitiveProblem(attribute.type, value);
      if (problem) this.report(path, problem);
    } else if (!isPlain(value)) {
      this.report(path, `expected object "${attribute.type}", got ${describe(value)}`);
    } else {
      const object = this.#schema.objects.get(attribute.type);
      if (object) this.record(object, value, path, 'object');
    }
  }

  /** What is wrong with `value` as an instance of data type `typeName`, if anything. */
  primitiveProblem(typeName: string, value: unknown): string | undefined {
    const type = this.#schema.types.get(typeName);
    if (!type) return `schema defines no type "${typeName}"`;
    const base = this.#schema.types.get(type.base) ?? type;
    const wrong = `expected ${type.name}, got ${describe(value)}`;
    switch (type.base) {
      case 'string_t': {
        if (typeof value !== 'string') return wrong;
        const maxLength = type.maxLength ?? base.maxLength;
        if (maxLength !== undefined && value.length > maxLength) {
          return `longer than the ${maxLength} characters ${type.name} allows`;
        }
        if (type.pattern && !type.pattern.test(value)) return `not a valid ${type.name}: ${value}`;
        return undefined;
      }
      case 'integer_t':
        if (!Number.isInteger(value) || (value as number) < INT32_MIN || (value as number) > INT32_MAX)
          return wrong;
        break;
      case 'long_t':
        if (!Number.isSafeInteger(value)) return wrong;
        break;
      case 'float_t':
        if (typeof value !== 'number' || !Number.isFinite(value)) return wrong;
        break;
      case 'boolean_t':
        return typeof value === 'boolean' ? undefined : wrong;
      case 'json_t':
        return undefined;
      default:
        return `schema type ${type.name} has unknown base ${type.base}`;
    }
    const range = type.range ?? base.range;
    const number = value as number;
    if (range && (number < range[0] || number > range[1])) {
      return `${number} is outside the ${type.name} range ${range[0]}..${range[1]}`;
    }
    return undefined;
  }

  enumValue(attribute: OcsfAttribute, value: unknown, parent: Json, path: string): void {
    const values = attribute.enum ?? {};
    const ids = Array.isArray(value) ? value : [value];
    for (const id of ids) {
      const caption = values[String(id)];
      if (caption === undefined) {
        const allowed = Object.entries(values).map(([key, name]) => `${key} (${name})`);
        this.report(
          join(path, attribute.name),
          `enum value ${JSON.stringify(id)} is not one of ${allowed.join(', ')}`,
        );
        continue;
      }
      const sibling = attribute.sibling && parent[attribute.sibling];
      if (!Array.isArray(value) && typeof sibling === 'string' && id !== 99 && sibling !== caption) {
        this.report(
          join(path, attribute.sibling as string),
          `"${sibling}" is not the caption of ${id}: "${caption}"`,
        );
      }
    }
  }
}

/**
 * Validates an event against the schema; an empty array means the event is valid. Problems are
 * sorted by path.
 * @example const problems = validateOcsfEvent(schema, event); // [{ path: 'actor.user', message: '…' }]
 */
export function validateOcsfEvent(schema: OcsfSchema, event: unknown): OcsfProblem[] {
  if (!isPlain(event)) return [{ path: '(event)', message: `expected an object, got ${describe(event)}` }];
  const cls = typeof event['class_uid'] === 'number' ? schema.classes.get(event['class_uid']) : undefined;
  if (!cls)
    return [
      {
        path: 'class_uid',
        message: `no OCSF ${schema.version} class has uid ${describe(event['class_uid'])}`,
      },
    ];

  const metadata = isPlain(event['metadata']) ? event['metadata'] : {};
  const listed = Array.isArray(metadata['profiles']) ? metadata['profiles'] : [];
  const checker = new Checker(schema, new Set(listed.filter((p): p is string => typeof p === 'string')));
  listed.forEach((profile, index) => {
    if (typeof profile === 'string' && !schema.profiles.has(profile)) {
      checker.report(
        `metadata.profiles[${index}]`,
        `no OCSF ${schema.version} profile is named "${profile}"`,
      );
    }
  });
  if (cls.deprecated) checker.report('class_uid', `class "${cls.name}" is deprecated`);
  checker.record(cls, event, '', 'class');

  if (metadata['version'] !== undefined && metadata['version'] !== schema.version) {
    checker.report('metadata.version', `expected "${schema.version}", got ${describe(metadata['version'])}`);
  }
  const { activity_id: activityId, type_uid: typeUid } = event;
  if (typeof activityId === 'number' && typeUid !== cls.uid * 100 + activityId) {
    checker.report(
      'type_uid',
      `expected class_uid ${cls.uid} * 100 + activity_id ${activityId} = ${cls.uid * 100 + activityId}, got ${describe(typeUid)}`,
    );
  }
  return checker.problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
