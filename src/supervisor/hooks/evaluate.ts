import { type DecisionRequest, POLICY_REASONS } from '../../policy/index.ts';
import { type PlannedRequest, type PlanOptions, planRequests } from './requests.ts';
import type { DecideFn, HookDecision, HookEvent, LocalReason, Verdict } from './types.ts';

// Asks the decision point about every request of a hook event and combines the answers:
// any deny denies, else any review holds the call for review, else it is allowed. Every failure
// on the way — no plan, a throwing or slow decision point, an answer of the wrong shape — denies.

export interface EvaluateOptions extends PlanOptions {
  /** How long to wait for all decisions of one event. Default 1500 ms; the client gives up at 2 s. */
  readonly decisionTimeoutMs?: number;
  /**
   * What an unverifiable shell command gets: `deny` (default), or `ask` where the harness can ask
   * its user (Claude Code, Gemini CLI; Codex has no ask and denies).
   */
  readonly onUnverifiable?: 'deny' | 'ask';
}

const MAX_SHOWN = 160;
/** Denials listed in one message; the rest are counted. */
const MAX_DENIALS_SHOWN = 3;
const clip = (text: string) => (text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text);

/** A short description of what a request asks, for the agent. */
export function describeRequest(request: DecisionRequest): string {
  switch (request.action) {
    case 'exec':
      return `running ${JSON.stringify(clip(request.argv.join(' ')))}`;
    case 'read_file':
      return `reading ${request.path}`;
    case 'write_file':
      return `writing ${request.path}`;
    case 'connect':
      return `connecting to ${request.host}:${request.port}`;
    case 'http_request':
      return `${request.method} ${clip('url' in request ? request.url : `${request.host}:${request.port}${request.path}`)}`;
    case 'mcp_call':
      return `calling the MCP tool ${request.server}/${request.tool}`;
  }
}

function describe(planned: PlannedRequest): string {
  return `${describeRequest(planned.request)}${planned.via && planned.via !== 'redirection' ? ` (via ${planned.via})` : ''}`;
}

function explain(decision: HookDecision): string {
  const text = (POLICY_REASONS as Record<string, string>)[decision.reason];
  const ids = decision.policyIds.length > 0 ? `; policy ${decision.policyIds.join(', ')}` : '';
  return `${text ?? decision.reason} (${decision.reason}${ids})${decision.detail ? `: ${decision.detail}` : ''}`;
}

function valid(decision: unknown): decision is HookDecision {
  if (typeof decision !== 'object' || decision === null) return false;
  const d = decision as Record<string, unknown>;
  return (
    (d.decision === 'allow' || d.decision === 'deny' || d.decision === 'review') &&
    Array.isArray(d.policyIds) &&
    d.policyIds.every((id) => typeof id === 'string') &&
    typeof d.reason === 'string' &&
    (d.message === undefined || typeof d.message === 'string') &&
    (d.reviewId === undefined || typeof d.reviewId === 'string')
  );
}

const deny = (message: string, policyIds: readonly string[] = [], local?: LocalReason): Verdict => ({
  outcome: 'deny',
  message,
  policyIds,
  reviewIds: [],
  ...(local ? { local } : {}),
});

async function decideAll(
  requests: readonly PlannedRequest[],
  decide: DecideFn,
  timeoutMs: number,
): Promise<unknown[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no decision within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.all(requests.map(async ({ request }) => decide(request))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function reviewVerdict(held: { d: HookDecision; planned: PlannedRequest }[], policyIds: string[]): Verdict {
  const reviewIds = held.flatMap(({ d }) => (d.reviewId ? [d.reviewId] : []));
  const what = held.map(({ planned }) => describe(planned)).join('; ');
  const ids = reviewIds.length > 0 ? ` Review id: ${reviewIds.join(', ')}.` : '';
  const messages = [...new Set(held.flatMap(({ d }) => (d.message ? [d.message] : [])))].join(' ');
  return {
    outcome: 'review',
    message: `Paddock: this call awaits human review and was not run (${what}).${ids}${messages ? ` ${messages}` : ''} Once a reviewer approves, retry the identical call; a changed call needs a new review.`,
    policyIds,
    reviewIds,
  };
}

/**
 * The verdict for one hook event.
 * @example await evaluateEvent(event, decide, { home: '/home/agent' }) // { outcome: 'deny', … }
 */
export async function evaluateEvent(
  event: HookEvent,
  decide: DecideFn,
  options: EvaluateOptions,
): Promise<Verdict> {
  if (event.call.kind === 'inert')
    return {
      outcome: 'allow',
      message: 'Paddock: no policy applies to this tool',
      policyIds: [],
      reviewIds: [],
      local: 'tool_inert',
    };
  const plan = planRequests(event, options);
  if (!plan.ok) {
    if (!plan.unverifiable) return deny(`Paddock denied this call: ${plan.message}.`, [], 'tool_unsupported');
    const ask = options.onUnverifiable === 'ask' && event.harness !== 'codex' && event.phase === 'pre';
    if (!ask) return deny(plan.message, [], 'unverifiable');
    return { outcome: 'ask', message: plan.message, policyIds: [], reviewIds: [], local: 'unverifiable' };
  }
  let answers: unknown[];
  try {
    answers = await decideAll(plan.requests, decide, options.decisionTimeoutMs ?? 1500);
  } catch (error) {
    return deny(
      `Paddock denied this call: the policy decision point did not answer (${(error as Error).message}). Retry later; if it persists, the workspace supervisor needs attention.`,
      [],
      'pdp_unavailable',
    );
  }
  if (!answers.every(valid))
    return deny(
      'Paddock denied this call: the policy decision point gave a malformed answer.',
      [],
      'pdp_malformed',
    );
  const decisions = answers as HookDecision[];
  const policyIds = [...new Set(decisions.flatMap((d) => d.policyIds))];
  const denied = decisions.flatMap((d, index) =>
    d.decision === 'deny' ? [{ d, planned: plan.requests[index] as PlannedRequest }] : [],
  );
  if (denied.length > 0) {
    const shown = denied
      .slice(0, MAX_DENIALS_SHOWN)
      .map(({ d, planned }) => `${describe(planned)}: ${explain(d)}`);
    const more = denied.length > MAX_DENIALS_SHOWN ? `; and ${denied.length - MAX_DENIALS_SHOWN} more` : '';
    const messages = [...new Set(denied.flatMap(({ d }) => (d.message ? [d.message] : [])))].join(' ');
    return deny(`Paddock policy denied ${shown.join('; and ')}${more}.${messages ? ` ${messages}` : ''}`, [
      ...new Set(denied.flatMap(({ d }) => d.policyIds)),
    ]);
  }
  const held = decisions.flatMap((d, index) =>
    d.decision === 'review' ? [{ d, planned: plan.requests[index] as PlannedRequest }] : [],
  );
  if (held.length > 0) return reviewVerdict(held, policyIds);
  const ids = policyIds.length > 0 ? ` (policy ${policyIds.join(', ')})` : '';
  return { outcome: 'allow', message: `Paddock policy allows this call${ids}`, policyIds, reviewIds: [] };
}
