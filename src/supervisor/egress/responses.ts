import { ERRORS } from '../../core/index.ts';
import { EGRESS_REASONS, type EgressReason } from '../../policy/index.ts';

// The responses the gateway itself writes. A denial is for the agent to read and act on:
// a JSON body naming the service, the request, the reason code and what rule would allow
// it, plus X-Paddock-Error (the error code) and X-Paddock-Reason (the reason code) headers
// for clients that only show headers. Bodies never carry resolved addresses (they would
// tell the agent about the internal network) nor any credential.

export type GatewayErrorCode =
  | 'PDK_EGRESS_DENIED'
  | 'PDK_EGRESS_BAD_REQUEST'
  | 'PDK_EGRESS_LIMIT'
  | 'PDK_EGRESS_REVIEW'
  | 'PDK_EGRESS_UPSTREAM';

/** The JSON body of a gateway error response. */
export interface EgressErrorBody {
  readonly error: GatewayErrorCode;
  readonly message: string;
  readonly reason: EgressReason;
  readonly service?: string;
  readonly method?: string;
  /** The request path, or `host:port` for a connection. */
  readonly path?: string;
  readonly detail?: string;
  /** What change to the blueprint would allow this request. */
  readonly missingRule?: string;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  413: 'Content Too Large',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
};

/** The status for a gateway error: the registry's, except an oversized head (431) or held body (413). */
export function statusFor(code: GatewayErrorCode, reason: EgressReason): number {
  if (reason === 'header_too_large') return 431;
  if (reason === 'review_body_too_large') return 413;
  return ERRORS[code].status;
}

/** A complete HTTP/1.1 response carrying `body` as JSON. */
export function errorResponse(body: EgressErrorBody, keepAlive = false): Buffer {
  return jsonResponse(statusFor(body.error, body.reason), body, body.error, body.reason, keepAlive);
}

/**
 * The pending or final answer for a review-gated write (docs/egress.md): `error` is the review
 * state (`review_pending`, `review_denied`, `review_expired`), with the review id to name.
 */
export interface ReviewAnswerBody {
  readonly error: 'review_pending' | 'review_denied' | 'review_expired';
  readonly review: string;
  /** The review gate that held the request, e.g. `writes[0].review`. */
  readonly rule: string;
  readonly message: string;
  /** ISO 8601, while pending. */
  readonly expiresAt?: string;
}

export function reviewResponse(body: ReviewAnswerBody, keepAlive: boolean): Buffer {
  return jsonResponse(403, body, 'PDK_EGRESS_REVIEW', body.error, keepAlive);
}

function jsonResponse(
  status: number,
  body: object,
  code: GatewayErrorCode,
  reason: string,
  keepAlive: boolean,
): Buffer {
  const json = JSON.stringify(body);
  const head = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(json)}`,
    `X-Paddock-Error: ${code}`,
    `X-Paddock-Reason: ${reason}`,
    'Cache-Control: no-store',
    `Connection: ${keepAlive ? 'keep-alive' : 'close'}`,
  ];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${json}`);
}

/** The body for a reason, with the registry message for its code. */
export function errorBody(
  code: GatewayErrorCode,
  reason: EgressReason,
  fields: Omit<EgressErrorBody, 'error' | 'message' | 'reason'> = {},
): EgressErrorBody {
  return { error: code, message: `${ERRORS[code].message}: ${EGRESS_REASONS[reason]}`, reason, ...fields };
}

/** Suggests the blueprint change that would allow a refused connection. */
export function missingServiceRule(
  host: string,
  port: number,
  reason: EgressReason,
  service?: string,
): string | undefined {
  switch (reason) {
    case 'no_matching_service':
    case 'ip_literal_not_allowed':
      return `add a service to spec.services with hosts: ["${host}"] and ports: [${port}]`;
    case 'port_not_allowed':
      return `add ${port} to services[${service}].ports`;
    case 'address_denied':
      return `if ${host} is meant to be internal, list its private range in services[${service}].cidrs`;
    default:
      return undefined;
  }
}
