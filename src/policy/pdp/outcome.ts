import type { PolicyAction } from '../cedar/bundle-types.ts';
import { DEFAULT_DENY_REASON } from './reasons.ts';
import type { DecisionKind, PolicyDecision } from './types.ts';

// From what an engine found to the decision (docs/policy.md, "Decisions"):
//   1. a forbid matched                 → deny, the matching forbids
//   2. a policy failed to evaluate      → deny `policy_error`, the failing policies (fail closed,
//                                          where Cedar alone would skip them)
//   3. a permit matched                 → allow, the matching permits; but a permit annotated
//                                          @review("required") is a gate, not a grant: it never
//                                          allows on its own, and when a gate matches a request
//                                          another permit allows, the decision is review (the
//                                          matching permits and gates)
//   4. nothing matched (or only gates)  → deny, the action's default reason, no policies
// Both engines report in this shape, so both answers go through the same function.

/** What an engine found for one request. */
export interface EngineOutcome {
  /** Satisfied forbids; when non-empty the permits are not reported. */
  readonly forbids: readonly string[];
  readonly permits: readonly string[];
  readonly errored: readonly string[];
}

/** What the decision needs to know of each policy. */
export interface PolicyFacts {
  /** Position in the bundle: determining ids are listed in bundle order. */
  readonly order: number;
  readonly reason: string | undefined;
  readonly review: boolean;
}

export type FactsById = ReadonlyMap<string, PolicyFacts>;

function inBundleOrder(ids: readonly string[], facts: FactsById): readonly string[] {
  if (ids.length < 2) return ids;
  const position = (id: string) => facts.get(id)?.order ?? Number.MAX_SAFE_INTEGER;
  return [...new Set(ids)].sort((a, b) => position(a) - position(b) || (a < b ? -1 : 1));
}

/** The decision for an engine's outcome. */
export function decisionOf(
  outcome: EngineOutcome,
  action: PolicyAction,
  facts: FactsById,
  bundle: PolicyDecision['bundle'],
): PolicyDecision {
  const make = (decision: DecisionKind, reason: string, policyIds: readonly string[]): PolicyDecision => ({
    decision,
    reason,
    policyIds,
    bundle,
  });
  if (outcome.forbids.length > 0) {
    const ids = inBundleOrder(outcome.forbids, facts);
    return make('deny', facts.get(ids[0]!)?.reason ?? 'policy_forbidden', ids);
  }
  if (outcome.errored.length > 0) return make('deny', 'policy_error', inBundleOrder(outcome.errored, facts));
  const grants = outcome.permits.filter((id) => !facts.get(id)?.review);
  if (grants.length > 0) {
    const ids = inBundleOrder(outcome.permits, facts);
    const gate = ids.find((id) => facts.get(id)?.review);
    if (gate === undefined) return make('allow', facts.get(ids[0]!)?.reason ?? 'policy_permitted', ids);
    // A connection is all or nothing: it cannot wait for a person. Gates belong on requests.
    if (action === 'connect') return make('deny', 'review_unsupported', ids);
    return make('review', facts.get(gate)?.reason ?? 'review_required', ids);
  }
  return make('deny', DEFAULT_DENY_REASON[action], []);
}

/** Whether two decisions agree on what the differential tests compare: decision, reason, policies. */
export function sameDecision(a: PolicyDecision, b: PolicyDecision): boolean {
  return (
    a.decision === b.decision &&
    a.reason === b.reason &&
    a.policyIds.length === b.policyIds.length &&
    a.policyIds.every((id, index) => b.policyIds[index] === id)
  );
}
