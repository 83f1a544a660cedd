import type {
  DecisionRequest,
  GateAnswer,
  HeldCall,
  PolicyDecision,
  ReviewGate,
  ReviewGateSpec,
  ReviewUser,
  ToolArgumentLogging,
} from '../../policy/index.ts';

// The PDP socket's review gate: a `review` decision is not the end of a request but a held call
// for the run's review queue (docs/reviews.md). The socket asks the gate, which answers whether
// a person approved this exact call (it goes through once), is still to decide, or refused it.

/** The run's review gate and what every held call of the socket's session carries. */
export interface PdpReviewOptions {
  /** The queue (startStandaloneReviews().gate). A rejection refuses the call (fail closed). */
  readonly gate: ReviewGate;
  /** The user who started the run: the requester, never a reviewer of their own calls. */
  readonly requester: ReviewUser;
  readonly workspaceId: string;
  readonly blueprint: { readonly name: string; readonly version: string };
  /** The blueprint's `spec.reviewGates`. */
  readonly spec: ReviewGateSpec;
  /** The blueprint's `spec.logging` (how reviewers and the audit trail see the arguments). */
  readonly logging?: ToolArgumentLogging;
}

/** What the socket answers for a held call, beyond the decision: the review to wait for. */
export interface ReviewAnswer {
  readonly decision: PolicyDecision;
  readonly review: { readonly reviewId: string; readonly message: string; readonly expiresAt?: string };
}

function httpResource(request: DecisionRequest & { action: 'http_request' }): string {
  if ('url' in request) return `${request.method.toUpperCase()} ${request.url}`;
  const scheme = request.port === 80 ? 'http' : 'https';
  return `${request.method.toUpperCase()} ${scheme}://${request.host}:${request.port}${request.path}`;
}

/**
 * The held call for a request the PDP answered `review`. The resource is what reviewers read;
 * the arguments pin what the resource leaves ambiguous (an argv's word boundaries), since an
 * approval unlocks exactly the action, resource and arguments it was given for.
 */
export function heldCallFor(
  request: DecisionRequest,
  decision: PolicyDecision,
  sessionId: string,
  options: PdpReviewOptions,
): HeldCall {
  const base = {
    requester: options.requester,
    workspaceId: options.workspaceId,
    sessionId,
    blueprint: options.blueprint,
    bundle: decision.bundle,
    action: request.action,
    ruleIds: decision.policyIds,
    gate: options.spec,
    ...(options.logging ? { logging: options.logging } : {}),
  };
  switch (request.action) {
    case 'exec':
      return {
        ...base,
        resource: request.argv.join(' '),
        tool: request.argv[0] ?? 'exec',
        arguments: { argv: request.argv },
      };
    case 'read_file':
    case 'write_file':
      return { ...base, resource: request.path, tool: request.action };
    case 'http_request':
      return { ...base, resource: httpResource(request), tool: 'http_request' };
    case 'mcp_call':
      return {
        ...base,
        resource: `${request.server}/${request.tool}`,
        tool: `${request.server}/${request.tool}`,
        arguments: request.arguments ?? {},
      };
    case 'connect':
      return { ...base, resource: `${request.host}:${request.port}`, tool: 'connect' };
  }
}

/** Turns the gate's answer into the socket's decision: approved → allow (once), pending → review, denied → deny. */
export function gateDecision(decision: PolicyDecision, answer: GateAnswer): ReviewAnswer {
  const review = {
    reviewId: answer.reviewId,
    message: answer.message,
    ...(answer.status === 'pending' ? { expiresAt: answer.expiresAt } : {}),
  };
  const kind = { approved: 'allow', pending: 'review', denied: 'deny' } as const;
  return {
    decision: {
      ...decision,
      decision: kind[answer.status],
      reason: `review_${answer.status}`,
      detail: answer.message,
    },
    review,
  };
}
