import { EntityValue, type RecordValue, recordOf, SetValue, type Value, valuesEqual } from './values.ts';

// Cedar expressions (EST form) compiled to closures. Every runtime type error Cedar would raise
// (a non-boolean under `&&`, `like` on a non-string, a missing attribute, `<` on non-Longs, …)
// throws EVALUATION_FAILED; the differential tests hold each rule to Cedar's own answers.

/** What an expression can see: the request's entities and context. */
export interface EvalEnv {
  readonly principal: EntityValue;
  readonly action: EntityValue;
  readonly resource: EntityValue;
  readonly context: RecordValue;
  /** Transitive ancestors of an entity (by key); empty for entities not in the request. */
  ancestors(key: string): ReadonlySet<string>;
}

/** A Cedar evaluation error: the policy is reported as errored. */
class EvaluationFailed extends Error {}

/** The one instance thrown for every evaluation error (no stack is captured per throw). */
export const EVALUATION_FAILED: Error = new EvaluationFailed('Cedar evaluation error');

/** A construct the fast path does not implement; the policy is left to Cedar. */
export class Unsupported extends Error {}

type Fn = (env: EvalEnv) => Value;
// The EST as cedar-wasm types it is a wide union; the compiler reads it structurally.
// biome-ignore lint/suspicious/noExplicitAny: each case reads the fields its operator has.
type Node = Record<string, any>;

const entities = new Map<string, EntityValue>();

/**
 * An interned entity value, for the entities policies and actions name: few, and compared often.
 * Request resources are plain `new EntityValue(…)`: interning them would grow without bound.
 */
export function entityOf(type: string, id: string): EntityValue {
  const probe = new EntityValue(type, id);
  const known = entities.get(probe.key);
  if (known) return known;
  if (entities.size < 10_000) entities.set(probe.key, probe);
  return probe;
}

function fail(): never {
  throw EVALUATION_FAILED;
}

function literal(json: unknown): Value {
  if (typeof json === 'string' || typeof json === 'boolean') return json;
  if (typeof json === 'number') {
    if (!Number.isSafeInteger(json)) throw new Unsupported('Long outside the safe integer range');
    return json;
  }
  if (Array.isArray(json)) return new SetValue(json.map(literal));
  if (json !== null && typeof json === 'object') {
    const object = json as Record<string, unknown>;
    if ('__entity' in object) {
      const { type, id } = object['__entity'] as { type: string; id: string };
      return entityOf(type, id);
    }
    if ('__extn' in object) throw new Unsupported('extension value');
    return recordOf(Object.entries(object).map(([key, item]) => [key, literal(item)] as const));
  }
  throw new Unsupported('null value');
}

const bool = (value: Value): boolean => (typeof value === 'boolean' ? value : fail());
const long = (value: Value): number => (typeof value === 'number' ? value : fail());
const set = (value: Value): SetValue => (value instanceof SetValue ? value : fail());
const entity = (value: Value): EntityValue => (value instanceof EntityValue ? value : fail());

function isRecord(value: Value): value is RecordValue {
  return typeof value === 'object' && !(value instanceof EntityValue) && !(value instanceof SetValue);
}

function binary(node: Node, op: (left: Value, right: Value) => Value): Fn {
  const left = compileExpression(node['left']);
  const right = compileExpression(node['right']);
  return (env) => op(left(env), right(env));
}

function inEntity(env: EvalEnv, left: EntityValue, right: Value): boolean {
  const targets = right instanceof SetValue ? right.items.map(entity) : [entity(right)];
  return targets.some((target) => target.key === left.key || env.ancestors(left.key).has(target.key));
}

/** Compiles one expression node. Throws Unsupported for what the fast path leaves to Cedar. */
export function compileExpression(node: Node): Fn {
  const [op, arg] = Object.entries(node)[0] ?? [];
  switch (op) {
    case 'Value': {
      const value = literal(arg);
      return () => value;
    }
    case 'Var':
      return (env) => env[arg as 'principal' | 'action' | 'resource' | 'context'];
    case '!': {
      const inner = compileExpression(arg['arg']);
      return (env) => !bool(inner(env));
    }
    case '==':
      return binary(arg, valuesEqual);
    case '!=':
      return binary(arg, (left, right) => !valuesEqual(left, right));
    case '<':
      return binary(arg, (left, right) => long(left) < long(right));
    case '<=':
      return binary(arg, (left, right) => long(left) <= long(right));
    case '>':
      return binary(arg, (left, right) => long(left) > long(right));
    case '>=':
      return binary(arg, (left, right) => long(left) >= long(right));
    case '&&':
    case '||': {
      const left = compileExpression(arg['left']);
      const right = compileExpression(arg['right']);
      const shortOn = op === '||';
      return (env) => (bool(left(env)) === shortOn ? shortOn : bool(right(env)));
    }
    case 'in': {
      const left = compileExpression(arg['left']);
      const right = compileExpression(arg['right']);
      return (env) => inEntity(env, entity(left(env)), right(env));
    }
    case 'contains':
      return binary(arg, (left, right) => set(left).has(right));
    case 'containsAll':
      return binary(arg, (left, right) => {
        const container = set(left);
        return set(right).items.every((item) => container.has(item));
      });
    case 'containsAny':
      return binary(arg, (left, right) => {
        const container = set(left);
        return set(right).items.some((item) => container.has(item));
      });
    case 'isEmpty': {
      const inner = compileExpression(arg['arg']);
      return (env) => set(inner(env)).items.length === 0;
    }
    case '.': {
      const inner = compileExpression(arg['left']);
      const attr = arg['attr'] as string;
      // Request entities carry no attributes: reading one is an error, as Cedar reports it.
      return (env) => {
        const value = inner(env);
        return isRecord(value) && Object.hasOwn(value, attr) ? value[attr]! : fail();
      };
    }
    case 'has': {
      const inner = compileExpression(arg['left']);
      const path: string[] = Array.isArray(arg['attr']) ? arg['attr'] : [arg['attr']];
      return (env) => {
        let value = inner(env);
        for (const attr of path) {
          if (value instanceof EntityValue) return false;
          if (!isRecord(value)) fail();
          if (!Object.hasOwn(value, attr)) return false;
          value = value[attr]!;
        }
        return true;
      };
    }
    case 'like': {
      const inner = compileExpression(arg['left']);
      const matches = compileLike(arg['pattern']);
      return (env) => {
        const value = inner(env);
        return typeof value === 'string' ? matches(value) : fail();
      };
    }
    case 'is': {
      const inner = compileExpression(arg['left']);
      const type = arg['entity_type'] as string;
      const within = arg['in'] ? compileExpression(arg['in']) : undefined;
      return (env) => {
        const value = entity(inner(env));
        if (value.type !== type) return false;
        return within ? inEntity(env, value, within(env)) : true;
      };
    }
    case 'if-then-else': {
      const test = compileExpression(arg['if']);
      const then = compileExpression(arg['then']);
      const otherwise = compileExpression(arg['else']);
      return (env) => (bool(test(env)) ? then(env) : otherwise(env));
    }
    case 'Set': {
      const items = (arg as Node[]).map(compileExpression);
      return (env) => new SetValue(items.map((item) => item(env)));
    }
    case 'Record': {
      const fields = Object.entries(arg as Record<string, Node>).map(
        ([key, item]) => [key, compileExpression(item)] as const,
      );
      return (env) => recordOf(fields.map(([key, item]) => [key, item(env)] as const));
    }
    default:
      // neg, + - *, getTag/hasTag, Slot, extension calls (ip(), decimal(), datetime(), …).
      throw new Unsupported(`expression ${op}`);
  }
}

// Cedar's `like`: `*` (Wildcard) matches any run of characters, everything else is literal.
//
// No regular expression: a pattern with several wildcards would backtrack polynomially on a
// long command line (`*a*a*a*b` against 64 KiB of "a"). Literal chunks are placed greedily,
// leftmost first, which is exact for patterns whose only wildcard is `*`, in time linear in the
// input for each chunk (indexOf). Strings are well-formed UTF-16 (the request builder checks),
// so a chunk can only match on whole code points, as Cedar matches Unicode scalar values.

type PatternElem = 'Wildcard' | { Literal: string };

/** A matcher for a `like` pattern in Cedar's JSON form. */
export function compileLike(pattern: readonly PatternElem[]): (text: string) => boolean {
  const chunks: string[] = [''];
  for (const element of pattern) {
    if (element === 'Wildcard') chunks.push('');
    else chunks[chunks.length - 1] += element.Literal;
  }
  const first = chunks[0]!;
  if (chunks.length === 1) return (text) => text === first;
  const last = chunks[chunks.length - 1]!;
  const middle = chunks.slice(1, -1).filter((chunk) => chunk.length > 0);
  const minimum = first.length + last.length + middle.reduce((sum, chunk) => sum + chunk.length, 0);
  return (text) => {
    if (text.length < minimum || !text.startsWith(first) || !text.endsWith(last)) return false;
    const end = text.length - last.length;
    let at = first.length;
    for (const chunk of middle) {
      const found = text.indexOf(chunk, at);
      if (found < 0 || found + chunk.length > end) return false;
      at = found + chunk.length;
    }
    return true;
  };
}
