import { POLICY_ACTIONS, type PolicyAction, type PolicyBundle } from '../cedar/bundle-types.ts';
import { policyToJson } from '../cedar/wasm.ts';
import { cedarSlices } from './engines.ts';
import { entityOf, type EvalEnv } from './compile-expression.ts';
import { actionsOf, type CompiledPolicy, compilePolicy } from './compile-policy.ts';
import { type FastSlice, fastSlice } from './engines.ts';
import { EntityValue } from './values.ts';
import { decisionOf, type FactsById, sameDecision } from './outcome.ts';
import { type PreparedPrincipal, preparePrincipal, principalProblem } from './principal.ts';
import { createRequestContext, type EvalInput } from './request-context.ts';
import type { DecisionRequest, PolicyDecision, PolicyPrincipal } from './types.ts';

// The policy decision point: one per bundle. Everything that can be done once is done at
// creation: policies parsed by Cedar into JSON (their EST) and compiled into closures, one
// Cedar policy set pre-parsed per action, services and path globs compiled for the context.
//
// Which path answers: the fast path (closures compiled from Cedar's own parse of each policy)
// answers every action whose policies all compile; an action with a policy the closures do not
// support (arithmetic, extension functions, tags) is answered by Cedar. The fast path is held
// to Cedar by differential tests over every example blueprint and, in production, by
// `crossCheckEvery`: every Nth fast answer is recomputed by Cedar, and Cedar's answer wins
// (reported through onMismatch) if they ever differ.

/** Options of `createDecisionPoint`. */
export interface DecisionPointOptions {
  /** The principal of requests that name none. Default session/user "unknown", no groups. */
  readonly principal?: PolicyPrincipal;
  /** `auto` (default): fast path where it applies, Cedar elsewhere. `cedar`: Cedar for everything. */
  readonly engine?: 'auto' | 'cedar';
  /** Most memoized decisions (LRU; 0 disables). Default 4096. Decisions are pure, so a memo is exact. */
  readonly memoEntries?: number;
  /** Recompute every Nth fast-path decision with Cedar (0 disables, the default). */
  readonly crossCheckEvery?: number;
  /**
   * Called with the error when an engine fails; the answer is deny `engine_error` with a generic
   * detail (the error itself may name internals, so it goes here, to the supervisor's log).
   */
  readonly onEngineError?: (error: unknown) => void;
  /** Called when a cross-check finds the two paths disagree; Cedar's answer is returned. */
  readonly onMismatch?: (mismatch: {
    request: DecisionRequest;
    fast: PolicyDecision;
    cedar: PolicyDecision;
  }) => void;
}

/** A prepared request with what each engine needs, for explain and the differential tests. */
export interface PreparedRequest {
  readonly input: EvalInput;
  readonly principal: PreparedPrincipal;
}

/** The decision point of one bundle. */
export interface DecisionPoint {
  readonly bundle: PolicyDecision['bundle'];
  /** Which path answers each action. */
  readonly engines: Readonly<Record<PolicyAction, 'fast' | 'cedar'>>;
  /** Decides one request. Never throws: malformed requests and engine failures are denials. */
  decide(request: DecisionRequest): PolicyDecision;
  /** Decides with one path, bypassing the memo; `fast` throws for an action it does not serve. */
  decideWith(engine: 'fast' | 'cedar', request: DecisionRequest): PolicyDecision;
  /** The request as policies see it (undefined with the refusal for a malformed one). */
  prepare(request: DecisionRequest): PreparedRequest | { refusal: PolicyDecision };
}

const DEFAULT_PRINCIPAL: PolicyPrincipal = { session: 'unknown', user: 'unknown', groups: [] };

/**
 * Creates the decision point of a bundle.
 *
 * @example
 * const pdp = createDecisionPoint(bundle, { principal: { session: 's-1', user: 'alice', groups: ['eng'] } });
 * pdp.decide({ action: 'exec', argv: ['git', 'push', 'origin', 'main'] });
 * // { decision: 'deny', reason: 'command_denied', policyIds: ['commands.deny[6]'], bundle: {…} }
 */
export function createDecisionPoint(bundle: PolicyBundle, options: DecisionPointOptions = {}): DecisionPoint {
  const ref = Object.freeze({ id: bundle.id, version: bundle.version });
  const parsed = bundle.policies.map((policy) => ({ policy, json: policyToJson(policy.text) }));
  const facts: FactsById = new Map(
    parsed.map(({ policy, json }, order) => [
      policy.id,
      { order, reason: json.annotations?.['reason'], review: json.annotations?.['review'] === 'required' },
    ]),
  );
  const compiled = parsed.map(({ policy, json }) => ({
    id: policy.id,
    json,
    fast: compilePolicy(policy.id, json),
  }));
  const sliceIds = Object.fromEntries(
    POLICY_ACTIONS.map((action) => [
      action,
      compiled.filter((c) => actionsOf(c.json)?.has(action) ?? true).map((c) => c.id),
    ]),
  ) as Record<PolicyAction, string[]>;
  const cedar = cedarSlices(bundle, sliceIds);
  const fast = {} as Partial<Record<PolicyAction, FastSlice>>;
  const engines = {} as Record<PolicyAction, 'fast' | 'cedar'>;
  for (const action of POLICY_ACTIONS) {
    const slice = compiled.filter((c) => sliceIds[action].includes(c.id));
    const closures = slice.map((c) => c.fast);
    if (closures.every((closure): closure is CompiledPolicy => closure !== undefined))
      fast[action] = fastSlice(closures, action);
    engines[action] = options.engine !== 'cedar' && fast[action] ? 'fast' : 'cedar';
  }

  const toInput = createRequestContext(bundle);
  const principals = new Map<string, PreparedPrincipal>();
  const memo = new Memo<PolicyDecision>(options.memoEntries ?? 4096);
  const crossCheckEvery = options.crossCheckEvery ?? 0;
  let fastCount = 0;
  const refusal = (reason: string, detail: string): PolicyDecision =>
    Object.freeze({ decision: 'deny', reason, policyIds: Object.freeze([]), bundle: ref, detail });
  const actionEntities = Object.fromEntries(
    POLICY_ACTIONS.map((action) => [action, entityOf('Action', action)]),
  );

  const prepare = (request: DecisionRequest): PreparedRequest | { refusal: PolicyDecision } => {
    const given =
      (request as { principal?: PolicyPrincipal } | null)?.principal ??
      options.principal ??
      DEFAULT_PRINCIPAL;
    const problem = principalProblem(given);
    if (problem) return { refusal: refusal('request_invalid', problem) };
    // Names are free of control characters (principalProblem), so NUL-joined keys are exact.
    const principalKey = `${given.session}\0${given.user}\0${(given.groups ?? []).join('\0')}`;
    let principal = principals.get(principalKey);
    if (!principal) {
      principal = preparePrincipal(given, bundle.blueprint.name);
      // A workspace serves a handful of sessions: start over rather than track recency.
      if (principals.size >= 256) principals.clear();
      principals.set(principalKey, principal);
    }
    const input = toInput(request);
    if ('refused' in input) return { refusal: refusal(input.refused, input.detail) };
    return { input, principal };
  };

  const run = (engine: 'fast' | 'cedar', { input, principal }: PreparedRequest): PolicyDecision => {
    if (engine === 'cedar')
      return Object.freeze(decisionOf(cedar[input.action](input, principal.cedar), input.action, facts, ref));
    const slice = fast[input.action];
    if (!slice) throw new Error(`the fast path does not serve ${input.action} in bundle ${bundle.id}`);
    const env: EvalEnv = {
      principal: principal.entity,
      action: actionEntities[input.action]!,
      resource: new EntityValue(input.resourceType, input.resourceId),
      context: input.context,
      ancestors: (key) => principal.ancestors.get(key) ?? EMPTY,
    };
    return Object.freeze(decisionOf(slice(env), input.action, facts, ref));
  };

  return {
    bundle: ref,
    engines: Object.freeze(engines),
    prepare,
    decideWith(engine, request) {
      const prepared = prepare(request);
      return 'refusal' in prepared ? prepared.refusal : run(engine, prepared);
    },
    decide(request) {
      let prepared: PreparedRequest | { refusal: PolicyDecision };
      try {
        prepared = prepare(request);
        if ('refusal' in prepared) return prepared.refusal;
        const key = `${prepared.principal.key}\u0001${prepared.input.key}`;
        const known = memo.get(key);
        if (known) return known;
        const engine = engines[prepared.input.action];
        let decision = run(engine, prepared);
        if (engine === 'fast' && crossCheckEvery > 0 && ++fastCount % crossCheckEvery === 0) {
          const reference = run('cedar', prepared);
          if (!sameDecision(decision, reference)) {
            options.onMismatch?.({ request, fast: decision, cedar: reference });
            decision = reference;
          }
        }
        memo.set(key, decision);
        return decision;
      } catch (error) {
        options.onEngineError?.(error);
        return refusal('engine_error', 'the policy engine failed on this request');
      }
    },
  };
}

const EMPTY: ReadonlySet<string> = new Set();

// A bounded least-recently-used map. Decisions are pure functions of the bundle and the request,
// so remembering one is exact; the bound keeps memory flat whatever the agent sends.

/** LRU map of at most `capacity` entries (0: remembers nothing). */
export class Memo<T> {
  readonly #capacity: number;
  readonly #entries = new Map<string, T>();

  constructor(capacity: number) {
    this.#capacity = Math.max(0, Math.floor(capacity));
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): T | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      // Map keeps insertion order: re-inserting makes this the most recently used.
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: T): void {
    if (this.#capacity === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
