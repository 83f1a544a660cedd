import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { EgressReason, GateAnswer, GateDecision, HeldCall, ReviewGate } from '../../policy/index.ts';
import type { Admitted, ClientConnection, GatewayCore } from './admission.ts';
import type { ConnectionFacts, HttpRequestFacts } from './audit.ts';
import { PLACEHOLDER_PREFIX } from './credentials.ts';
import { awaitHeldBody } from './held-body.ts';
import { type BodyFraming, connectionTokens, headerValue, type RequestHead } from './http-head.ts';
import { errorBody, errorResponse, type ReviewAnswerBody, reviewResponse } from './responses.ts';
import type { SocketReader } from './socket-reader.ts';

// A write a review gate covers is held, like a tool call at the other enforcement points
// (docs/reviews.md): the gateway waits for the whole body, puts the request in the run's review
// queue bound to the digest of its exact method, URL and body, and answers the agent at once
// with a pending 403 it can act on. The identical request repeated after an approval goes
// through once; a changed one needs a new review. Every step is an HTTP Activity event.

/** What every held request of the run carries; the gateway adds the request itself. */
export type HeldCallBase = Omit<
  HeldCall,
  'action' | 'resource' | 'tool' | 'arguments' | 'context' | 'ruleIds' | 'decisionEvent'
>;

/** The run's review queue, as the gateway holds requests in it. */
export interface EgressReviewQueue {
  readonly gate: ReviewGate;
  /** Read per held request, so a new bundle shows at once. */
  held(): HeldCallBase;
}

export type HoldOutcome =
  | { readonly kind: 'approved'; readonly reviewId: string }
  /** The client went away or did not send the body in time: drop the connection. */
  | { readonly kind: 'closed' }
  | { readonly kind: 'answered'; readonly response: Buffer; readonly keepAlive: boolean };

export interface HoldInput {
  readonly admitted: Admitted;
  readonly head: RequestHead;
  readonly framing: BodyFraming;
  readonly reader: SocketReader;
  /** Where answers to the agent go (inside TLS when terminated): for an interim 100 Continue. */
  readonly client: Duplex;
  /** The absolute URL as sent (query included): part of the digest. */
  readonly url: string;
  /** The request path, as the rules saw it. */
  readonly path: string;
  /** The review gate that covers the request, e.g. `writes[0].review`. */
  readonly rule: string;
}

/** Header values reviewers never see, whatever the blueprint's logging says. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'api-key',
  'private-token',
  'x-auth-token',
]);
const MAX_SHOWN_HEADERS = 64;
const MAX_SHOWN_VALUE = 512;

/**
 * The request's headers as reviewers see them: credentials and cookies hidden, placeholders
 * masked, long values cut. Not part of the digest (clients vary them between identical retries).
 */
export function headerSummary(head: RequestHead): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const field of head.fields.slice(0, MAX_SHOWN_HEADERS)) {
    if (field.lower === 'host') continue;
    let value = SECRET_HEADERS.has(field.lower)
      ? '[REDACTED]'
      : field.value.replace(/pdk_ph_[A-Za-z0-9_]+/g, `${PLACEHOLDER_PREFIX}[REDACTED]`);
    if (value.length > MAX_SHOWN_VALUE) value = `${value.slice(0, MAX_SHOWN_VALUE)}…`;
    shown[field.lower] = shown[field.lower] === undefined ? value : `${shown[field.lower]}, ${value}`;
  }
  return shown;
}

/** The body as reviewers read it: UTF-8 text as is, anything else named by its size. */
function bodyText(body: Buffer): string | null {
  if (body.length === 0) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return `[binary body, ${body.length} bytes]`;
  }
}

/**
 * The held call for a request: action `http_request`, resource `METHOD URL`, and the body as
 * arguments (its SHA-256 always, its text when it is text), so the approval is bound to the
 * exact method, URL and body and nothing else.
 */
export function heldHttpCall(
  base: HeldCallBase,
  request: { method: string; url: string; body: Buffer; rule: string; service: string },
  context: Record<string, unknown>,
  decisionEvent: (step: GateDecision) => Record<string, unknown> | undefined,
): HeldCall {
  return {
    ...base,
    action: 'http_request',
    resource: `${request.method} ${request.url}`,
    tool: `http_request (${request.service})`,
    arguments: {
      body: bodyText(request.body),
      bodyBytes: request.body.length,
      bodySha256: `sha256:${createHash('sha256').update(request.body).digest('hex')}`,
    },
    context,
    ruleIds: request.rule.split(', '),
    decisionEvent,
  };
}

/** The pending message the gateway answers (what the agent should do next, in one line). */
export function pendingReviewMessage(reviewId: string): string {
  return `this request awaits human review (paddock review approve ${reviewId}); repeat the identical request after approval`;
}

function wantsClose(head: RequestHead): boolean {
  const tokens = connectionTokens(head);
  return head.version === '1.0' ? !tokens.has('keep-alive') : tokens.has('close');
}

/**
 * Holds one covered request: buffers its body, asks the queue, and either lets it through
 * (approved: forward it as usual) or answers for the gateway (pending, denied, expired, too
 * large, queue failed). Fails closed: any error refuses the request.
 */
export async function holdForReview(
  core: GatewayCore,
  connection: ClientConnection,
  input: HoldInput,
): Promise<HoldOutcome> {
  const { admitted, head, reader, url, path, rule } = input;
  const service = admitted.service.name;
  const facts: ConnectionFacts = {
    connectionId: connection.id,
    sourceIp: connection.sourceIp,
    host: admitted.host,
    port: admitted.port,
    ip: admitted.addresses[0],
  };
  const request: HttpRequestFacts = {
    method: head.method,
    url,
    userAgent: headerValue(head, 'user-agent'),
    responseCode: 403,
  };
  const refuse = (reason: EgressReason, detail: string, keepAlive: boolean): HoldOutcome => {
    const decision = { allow: false, stage: 'request', reason, service, rule, detail } as const;
    core.audit.request(decision, request, facts);
    core.log.denied({
      connectionId: connection.id,
      host: admitted.host,
      port: admitted.port,
      service,
      reason,
      stage: 'request',
    });
    const body = errorBody(
      reason === 'review_body_too_large' ? 'PDK_EGRESS_LIMIT' : 'PDK_EGRESS_DENIED',
      reason,
      {
        service,
        method: head.method,
        path,
        detail,
      },
    );
    return { kind: 'answered', response: errorResponse(body, keepAlive), keepAlive };
  };

  const queue = core.reviewQueue;
  if (!queue)
    return refuse(
      'review_required',
      `${head.method} ${path} needs a reviewer's approval (${rule}), and this gateway has no review queue to hold it in`,
      false,
    );

  // A client that waits for 100 Continue before its body would otherwise stall until its own timeout.
  const expects = headerValue(head, 'expect')?.toLowerCase() === '100-continue';
  if (expects && input.framing.kind !== 'none' && reader.length === 0)
    input.client.write('HTTP/1.1 100 Continue\r\n\r\n');
  const held = await awaitBodyInTime(core, reader, input.framing);
  if (held.kind === 'closed') return { kind: 'closed' };
  if (held.kind === 'malformed') return refuse('request_malformed', held.detail, false);
  if (held.kind === 'too_large') {
    const limit = core.limits.maxReviewBodyBytes;
    return refuse(
      'review_body_too_large',
      `the body of a review-gated write may be at most ${limit} bytes (the gateway holds it whole to bind the review to it)`,
      false,
    );
  }

  let last: GateDecision | undefined;
  let answer: GateAnswer;
  try {
    const call = heldHttpCall(
      queue.held(),
      { method: head.method, url, body: held.body, rule, service },
      { headers: headerSummary(head) },
      (step) => {
        last = step;
        // The approved request is audited once, when its response has passed (http-session.ts).
        if (step.decision === 'allow') return undefined;
        return core.audit.reviewStep(step, rule, service, request, facts) as unknown as Record<
          string,
          unknown
        >;
      },
    );
    answer = await queue.gate.request(call);
  } catch (error) {
    core.log.reviewFailed({ connectionId: connection.id, service, error: (error as Error).message });
    return refuse('review_unavailable', 'the review queue failed; the request is refused', false);
  }
  if (answer.status === 'approved') return { kind: 'approved', reviewId: answer.reviewId };

  // The body was read whole: consume it, so the connection can carry the retry.
  reader.consume(held.wireLength);
  const keepAlive = !wantsClose(head);
  const body: ReviewAnswerBody =
    answer.status === 'pending'
      ? {
          error: 'review_pending',
          review: answer.reviewId,
          rule,
          message: pendingReviewMessage(answer.reviewId),
          expiresAt: answer.expiresAt,
        }
      : {
          error: last?.reasonCode === 'review_expired' ? 'review_expired' : 'review_denied',
          review: answer.reviewId,
          rule,
          message: answer.message,
        };
  return { kind: 'answered', response: reviewResponse(body, keepAlive), keepAlive };
}

/** The body must arrive within the head timeout, like the head itself (slow-loris bound). */
async function awaitBodyInTime(core: GatewayCore, reader: SocketReader, framing: BodyFraming) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ kind: 'closed' }>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'closed' }), core.limits.headersTimeoutMs);
  });
  try {
    return await Promise.race([awaitHeldBody(reader, framing, core.limits.maxReviewBodyBytes), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
