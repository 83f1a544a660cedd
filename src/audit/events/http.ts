import { buildEvent } from './base.ts';
import { decisionEventName } from './catalog.ts';
import { HTTP_ACTIVITY } from './classes.ts';
import { decisionFields } from './decision.ts';
import { sandboxEndpoint, urlObject } from './objects.ts';
import type { EgressDestination } from './network.ts';
import type { AgentContext, DecisionInput, OcsfEvent } from './types.ts';

// HTTP Activity (4002): requests the egress gateway inspected (L7 rules, writes, review gates).
// The activity is the request method, as OCSF defines it.

const METHOD_ACTIVITY: Readonly<Record<string, number>> = {
  CONNECT: 1,
  DELETE: 2,
  GET: 3,
  HEAD: 4,
  OPTIONS: 5,
  POST: 6,
  PUT: 7,
  TRACE: 8,
  PATCH: 9,
};

export interface HttpDecisionInput extends AgentContext, DecisionInput {
  /** Request method as sent; methods OCSF does not name become activity 99 with this name. */
  readonly method: string;
  /**
   * The absolute request URL. Userinfo is dropped; redact query parameters the blueprint's
   * `logging.redact` names before calling.
   */
  readonly url: string;
  /** Where the request went: resolved address and the matched blueprint service. */
  readonly destination?: EgressDestination;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  /** The status the gateway (or upstream, when allowed) answered, e.g. 403 for a denial. */
  readonly responseCode?: number;
}

/**
 * `http.allowed`, `http.denied` or `http.review_requested` for one request through the gateway.
 * @example httpDecisionEvent({ workspaceId, sessionId, decision: 'review', reasonCode: 'write_requires_review',
 *   bundle, method: 'POST', url: 'https://api.github.com/repos/o/r/pulls/1/reviews' })
 */
export function httpDecisionEvent(input: HttpDecisionInput): OcsfEvent {
  const method = input.method.toUpperCase();
  const activityId = METHOD_ACTIVITY[method] ?? 99;
  const url = urlObject(input.url);
  return buildEvent(HTTP_ACTIVITY, decisionEventName('http', input.decision), activityId, input, {
    // For a method OCSF does not enumerate, the activity name carries the source's own value.
    ...(activityId === 99 ? { activity_name: method } : {}),
    src_endpoint: sandboxEndpoint(input.workspaceId, input.sourceIp),
    dst_endpoint: {
      hostname: input.destination?.hostname ?? url['hostname'],
      port: input.destination?.port ?? url['port'],
      ip: input.destination?.ip,
      svc_name: input.destination?.service,
    },
    http_request: {
      http_method: activityId === 99 ? undefined : method,
      url,
      user_agent: input.userAgent,
    },
    http_response: input.responseCode === undefined ? undefined : { code: input.responseCode },
    ...decisionFields(input),
  });
}
