import type { PolicyJson } from '../cedar/wasm.ts';
import {
  compileExpression,
  EVALUATION_FAILED,
  type EvalEnv,
  entityOf,
  Unsupported,
} from './compile-expression.ts';

// Compiles one Cedar policy, in its JSON form (EST) as Cedar itself parsed it, into a JavaScript
// closure with Cedar's semantics: scope, then each `when`/`unless` in order, `&&` and `||`
// short-circuiting, and a policy that hits an evaluation error reported as errored (Cedar skips
// it; the decision point then fails closed). What the closure does not support (arithmetic,
// extension functions, tags, templates) makes `compilePolicy` return undefined, and the actions
// that policy applies to are answered by Cedar itself.

/** A compiled policy. */
export interface CompiledPolicy {
  readonly id: string;
  readonly effect: 'permit' | 'forbid';
  /** Action names the scope admits; undefined: every action. */
  readonly actions: ReadonlySet<string> | undefined;
  readonly annotations: Readonly<Record<string, string>>;
  /** True when satisfied, false when not; throws EVALUATION_FAILED when evaluation fails. */
  readonly test: (env: EvalEnv) => boolean;
}

type EntityUidJson = { __entity: { type: string; id: string } } | { type: string; id: string };
type Constraint = {
  op: string;
  entity?: EntityUidJson;
  entities?: EntityUidJson[];
  entity_type?: string;
  in?: { entity?: EntityUidJson; slot?: string };
  slot?: string;
};

function uid(json: EntityUidJson | undefined) {
  if (!json) throw new Unsupported('template slot');
  const { type, id } = '__entity' in json ? json.__entity : json;
  return entityOf(type, id);
}

function scopeTest(constraint: Constraint, select: (env: EvalEnv) => ReturnType<typeof entityOf>) {
  if (constraint.slot !== undefined || constraint.in?.slot !== undefined)
    throw new Unsupported('template slot');
  switch (constraint.op) {
    case 'All':
      return undefined;
    case '==': {
      const key = uid(constraint.entity).key;
      return (env: EvalEnv) => select(env).key === key;
    }
    case 'in': {
      const keys = (constraint.entities ?? [constraint.entity]).map((entity) => uid(entity).key);
      if (keys.length === 1) {
        // The common scope, `principal in Blueprint::"name"`: one key to look for.
        const key = keys[0]!;
        return (env: EvalEnv) => {
          const entity = select(env);
          return entity.key === key || env.ancestors(entity.key).has(key);
        };
      }
      return (env: EvalEnv) => {
        const entity = select(env);
        return keys.some((key) => entity.key === key || env.ancestors(entity.key).has(key));
      };
    }
    case 'is': {
      const type = constraint.entity_type!;
      const inKey = constraint.in ? uid(constraint.in.entity).key : undefined;
      return (env: EvalEnv) => {
        const entity = select(env);
        if (entity.type !== type) return false;
        return inKey === undefined || entity.key === inKey || env.ancestors(entity.key).has(inKey);
      };
    }
    default:
      throw new Unsupported(`scope operator ${constraint.op}`);
  }
}

/** The action names a policy's action scope admits; undefined: every action. */
export function actionsOf(json: PolicyJson): ReadonlySet<string> | undefined {
  const constraint = json.action as Constraint;
  if (constraint.op === 'All') return undefined;
  const entities =
    constraint.op === '==' ? [constraint.entity] : (constraint.entities ?? [constraint.entity]);
  // The schema declares no action groups, so `in` names the same actions as `==`.
  return new Set(
    entities.flatMap((entity) => {
      const value = uid(entity);
      return value.type === 'Action' ? [value.id] : [];
    }),
  );
}

/** Compiles a policy, or returns undefined when it uses what the fast path does not support. */
export function compilePolicy(id: string, json: PolicyJson): CompiledPolicy | undefined {
  try {
    const tests: ((env: EvalEnv) => boolean)[] = [];
    const principal = scopeTest(json.principal as Constraint, (env) => env.principal);
    const resource = scopeTest(json.resource as Constraint, (env) => env.resource);
    if (principal) tests.push(principal);
    if (resource) tests.push(resource);
    for (const clause of json.conditions) {
      const body = compileExpression(clause.body);
      const expected = clause.kind === 'when';
      tests.push((env) => {
        const value = body(env);
        if (typeof value !== 'boolean') throw EVALUATION_FAILED;
        return value === expected;
      });
    }
    return {
      id,
      effect: json.effect,
      actions: actionsOf(json),
      annotations: { ...(json.annotations ?? {}) },
      test:
        tests.length === 1
          ? tests[0]!
          : (env) => {
              for (const test of tests) if (!test(env)) return false;
              return true;
            },
    };
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}
