import { createHash } from 'node:crypto';
import type { PolicyAction, PolicyBundle } from '../cedar/bundle-types.ts';
import { authorizePreparsed, type CedarEntity, type CedarRequest, preparsePolicySet } from '../cedar/wasm.ts';
import { EVALUATION_FAILED, type EvalEnv } from './compile-expression.ts';
import type { CompiledPolicy } from './compile-policy.ts';
import type { EngineOutcome } from './outcome.ts';
import type { EvalInput } from './request-context.ts';
import { toCedarJson } from './values.ts';

// The two engines that answer one action's slice of a bundle, both reporting an EngineOutcome
// that pdp/outcome.ts turns into the decision.
//
// The reference path: Cedar itself (cedar-wasm's stateful API), over one pre-parsed policy set
// per action holding only the policies whose scope can admit that action. Slicing changes no
// answer (a policy whose action scope fails is never satisfied and never errors) and makes
// each call cheaper.

/** Evaluates a prepared request with Cedar. */
export type CedarSlice = (input: EvalInput, principal: CedarPrincipal) => EngineOutcome;

/** The principal as Cedar takes it: its uid and the entities of its hierarchy. */
export interface CedarPrincipal {
  readonly uid: { type: string; id: string };
  readonly entities: CedarEntity[];
}

/**
 * Pre-parses one slice per action (policies listed in `sliceIds`) and returns their evaluators.
 * A set's id is the digest of its policies, so re-creating a decision point for the same bundle
 * reuses the engine's cache entries instead of adding new ones, and two different slices can
 * never share an entry.
 */
export function cedarSlices(
  bundle: PolicyBundle,
  sliceIds: Readonly<Record<PolicyAction, readonly string[]>>,
): Record<PolicyAction, CedarSlice> {
  const texts = new Map(bundle.policies.map((policy) => [policy.id, policy.text]));
  const slices = {} as Record<PolicyAction, CedarSlice>;
  for (const [action, ids] of Object.entries(sliceIds) as [PolicyAction, readonly string[]][]) {
    const policies = Object.fromEntries(ids.map((id) => [id, texts.get(id)!]));
    const setId = `paddock:${createHash('sha256').update(JSON.stringify(policies)).digest('hex')}`;
    // Parsed on first use: with the fast engine Cedar decides only cross-checks and actions it
    // cannot compile, and a bundle applied between decisions should not wait for every set.
    let parsed = false;
    const actionUid = { type: 'Action', id: action };
    slices[action] = (input, principal) => {
      if (!parsed) {
        preparsePolicySet(setId, policies);
        parsed = true;
      }
      const request: CedarRequest = {
        principal: principal.uid,
        action: actionUid,
        resource: { type: input.resourceType, id: input.resourceId },
        context: toCedarJson(input.context) as CedarRequest['context'],
        entities: principal.entities,
      };
      const answer = authorizePreparsed(setId, request);
      return answer.allow
        ? { forbids: [], permits: answer.reason, errored: answer.errored }
        : { forbids: answer.reason, permits: [], errored: answer.errored };
    };
  }
  return slices;
}

// The fast path: one action's compiled policies, forbids first. Once a forbid matches, the
// decision is deny whatever the permits say, so they are not evaluated: the outcome then lists
// the matching forbids, exactly what Cedar reports as the reasons of that deny.

/** Evaluates one action's slice. */
export type FastSlice = (env: EvalEnv) => EngineOutcome;

const NONE: readonly string[] = Object.freeze([]);

/** Builds the evaluator of `action` from the policies whose scope admits it. */
export function fastSlice(policies: readonly CompiledPolicy[], action: PolicyAction): FastSlice {
  const applies = (policy: CompiledPolicy) => policy.actions === undefined || policy.actions.has(action);
  const forbids = policies.filter((policy) => policy.effect === 'forbid' && applies(policy));
  const permits = policies.filter((policy) => policy.effect === 'permit' && applies(policy));
  const run = (slice: readonly CompiledPolicy[], env: EvalEnv, errored: string[]): string[] => {
    let satisfied: string[] | undefined;
    for (const policy of slice) {
      try {
        if (policy.test(env)) {
          satisfied ??= [];
          satisfied.push(policy.id);
        }
      } catch (error) {
        if (error !== EVALUATION_FAILED) throw error;
        errored.push(policy.id);
      }
    }
    return satisfied ?? (NONE as string[]);
  };
  return (env) => {
    const errored: string[] = [];
    const matchedForbids = run(forbids, env, errored);
    if (matchedForbids.length > 0) return { forbids: matchedForbids, permits: NONE, errored };
    return { forbids: NONE, permits: run(permits, env, errored), errored };
  };
}
