import type { ResolvedBlueprint } from '../../config/index.ts';
import {
  type BundlePolicy,
  type DecisionRequest,
  type PolicyBundle,
  type PolicyDecision,
  POLICY_REASONS,
} from '../../policy/index.ts';
import { policySourceFile } from '../../supervisor/index.ts';

// How `paddock policy explain` prints a decision: the answer, the request as policies saw it,
// each determining policy with where it came from, and a sentence on why.

/** Everything the explanation is built from. */
export interface Explanation {
  readonly resolved: ResolvedBlueprint;
  readonly bundle: PolicyBundle;
  readonly request: DecisionRequest;
  /** The resource as typed on the command line. */
  readonly resource: string;
  readonly decision: PolicyDecision;
  /** The Cedar context the policies saw; undefined for a malformed request. */
  readonly context: Record<string, unknown> | undefined;
  readonly engine: 'fast' | 'cedar' | undefined;
  readonly cedarAgrees: boolean;
}

interface ExplainedPolicy {
  readonly id: string;
  readonly effect: 'permit' | 'forbid';
  readonly review: boolean;
  readonly field?: string;
  readonly file: string;
  readonly line?: number;
  readonly text: string;
}

function reasonText(reason: string): string {
  return (POLICY_REASONS as Record<string, string>)[reason] ?? 'a reason an extra policy names';
}

function policiesOf(explanation: Explanation): ExplainedPolicy[] {
  const byId = new Map(explanation.bundle.policies.map((policy) => [policy.id, policy]));
  return explanation.decision.policyIds.map((id) => {
    const policy = byId.get(id) as BundlePolicy;
    return {
      id,
      effect: policy.effect,
      review: /@review\("required"\)/u.test(policy.text),
      ...(policy.source.field ? { field: policy.source.field } : {}),
      file: policySourceFile(explanation.resolved, policy),
      ...(policy.source.line ? { line: policy.source.line } : {}),
      text: policy.text,
    };
  });
}

function why(explanation: Explanation, policies: readonly ExplainedPolicy[]): string {
  const { decision, request } = explanation;
  const action = request.action;
  const ids = (list: readonly ExplainedPolicy[]) => list.map((policy) => policy.id).join(', ');
  if (decision.detail !== undefined)
    return `The request was refused before any policy: ${decision.detail}. Paddock denies what it cannot read unambiguously.`;
  if (decision.reason === 'policy_error')
    return `Policy ${ids(policies)} failed to evaluate for this request; Paddock fails closed and denies.`;
  if (decision.decision === 'deny' && policies.length > 0 && policies[0]!.effect === 'forbid')
    return `Forbidden by ${ids(policies)}. A forbid wins over every permit, so no allow rule can change this.`;
  if (decision.decision === 'deny' && decision.reason === 'review_unsupported')
    return `A review gate matched this connection, but a connection cannot wait for a person; gate the HTTP requests instead.`;
  if (decision.decision === 'deny')
    return `Nothing permits it: no permit for ${action} matched (a review gate alone never permits), and Paddock denies by default. To allow it, widen the blueprint field that governs ${action} (or add a permit in policies/*.cedar).`;
  const grants = policies.filter((policy) => !policy.review);
  if (decision.decision === 'allow') return `Permitted by ${ids(grants)}; no forbid matched.`;
  const gates = explanation.resolved.blueprint.spec.reviewGates;
  const who = gates
    ? `${gates.minApprovals} approval(s) from ${gates.reviewers.join(', ')}, within ${gates.timeout} (then ${gates.onTimeout})`
    : 'a reviewer (the blueprint sets no reviewGates: nobody can approve, so it will time out)';
  return `Permitted by ${ids(grants)}, and the review gate ${ids(policies.filter((p) => p.review))} covers it: the action is held until ${who}.`;
}

/** The JSON form of an explanation. */
export function explainJson(explanation: Explanation): Record<string, unknown> {
  const policies = policiesOf(explanation);
  const { decision } = explanation;
  return {
    decision: decision.decision,
    reason: decision.reason,
    reasonText: reasonText(decision.reason),
    ...(decision.detail ? { detail: decision.detail } : {}),
    policyIds: decision.policyIds,
    bundle: decision.bundle,
    engine: explanation.engine ?? null,
    cedarAgrees: explanation.cedarAgrees,
    request: explanation.request,
    context: explanation.context ?? null,
    policies,
    why: why(explanation, policies),
  };
}

const indent = (text: string, by: string) =>
  text
    .split('\n')
    .map((line) => by + line)
    .join('\n');

/** The text form of an explanation. */
export function renderExplanation(explanation: Explanation): string {
  const policies = policiesOf(explanation);
  const { decision, bundle, request } = explanation;
  const lines = [
    `decision  ${decision.decision} (${decision.reason}: ${reasonText(decision.reason)})`,
    `bundle    ${bundle.id} version ${bundle.version}, blueprint ${explanation.resolved.chain.join(' <- ')}`,
    `request   ${request.action} ${explanation.resource}`,
  ];
  if (explanation.context) {
    const shown = Object.entries(explanation.context).map(
      ([key, value]) => `${key}=${JSON.stringify(value)}`,
    );
    lines.push(`context   ${shown.join(' ')}`);
  }
  if (explanation.engine) {
    const check = explanation.cedarAgrees ? 'Cedar agrees' : 'CEDAR DISAGREES (report this bug)';
    lines.push(`engine    ${explanation.engine === 'fast' ? 'fast path' : 'Cedar'}; ${check}`);
  }
  lines.push('');
  if (policies.length === 0) lines.push('determining policies: none');
  else {
    lines.push('determining policies:');
    for (const policy of policies) {
      const where = [policy.field, policy.line ? `${policy.file}:${policy.line}` : policy.file].filter(
        Boolean,
      );
      const kind = policy.review ? 'review gate' : policy.effect;
      lines.push(`  ${policy.id}  (${kind}; ${where.join(' in ')})`, indent(policy.text, '      '));
    }
  }
  lines.push('', `why: ${why(explanation, policies)}`, '');
  return lines.join('\n');
}
