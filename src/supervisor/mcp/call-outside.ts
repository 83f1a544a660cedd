import { type GateAnswer, POLICY_REASONS } from '../../policy/index.ts';
import type { CallCheckDeps, ToolCall } from './call-check.ts';
import type { McpDecide, McpPolicyDecision } from './types.ts';

// The two outside parties a call may wait on: the PDP (a throw or a malformed answer is a
// deny, fail closed) and, for a `review` decision, the review gate (absent or failing: deny).

/** The PDP's decision for a call; any failure becomes a deny with reason `pdp_error`. */
export async function decideSafely(
  deps: CallCheckDeps,
  request: Parameters<McpDecide>[0],
): Promise<McpPolicyDecision> {
  try {
    const answer = await deps.decide(request);
    if (answer.decision === 'allow' || answer.decision === 'deny' || answer.decision === 'review') {
      const known = (POLICY_REASONS as Record<string, string>)[answer.reason];
      return answer.message !== undefined || known === undefined ? answer : { ...answer, message: known };
    }
    throw new Error(`unexpected decision ${String(answer.decision)}`);
  } catch (error) {
    deps.log.decisionFailed(request.server, request.tool, (error as Error).message);
    return {
      decision: 'deny',
      policyIds: [],
      reason: 'pdp_error',
      message: 'the policy decision point failed, so the call is denied',
    };
  }
}

/** Hands a `review` call to the gate; undefined when the gateway cannot hold calls (then: deny). */
export async function holdForReview(
  deps: CallCheckDeps,
  call: ToolCall,
  server: string,
  tool: string,
  decision: McpPolicyDecision,
): Promise<GateAnswer | undefined> {
  const context = deps.context();
  const requester =
    deps.requester ??
    (context.user
      ? {
          id: context.user.uid,
          name: context.user.name,
          email: context.user.email,
          groups: context.user.groups,
        }
      : undefined);
  if (!deps.reviews || !deps.reviewGate || !requester || !context.blueprint) return undefined;
  try {
    return await deps.reviews.request({
      requester,
      workspaceId: context.workspaceId,
      sessionId: context.sessionId,
      harness: context.harness,
      blueprint: context.blueprint,
      bundle: context.bundle,
      action: 'mcp_call',
      resource: `${server}/${tool}`,
      tool: `${server}/${tool}`,
      arguments: call.arguments,
      ruleIds: decision.policyIds,
      gate: deps.reviewGate,
      logging: deps.logging,
    });
  } catch (error) {
    deps.log.reviewFailed(server, tool, (error as Error).message);
    return undefined;
  }
}
