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
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
};

/** The status for a gateway error: the registry's, except an oversized head, which is 431. */
export function statusFor(code: GatewayErrorCode, reason: EgressReason): number {
  return reason === 'header_too_large' ? 431 : ERRORS[code].status;
}

/** A complete HTTP/1.1 response carrying `body` as JSON. */
export function errorResponse(body: EgressErrorBody, keepAlive = false): Buffer {
  const status = statusFor(body.error, body.reason);
  const json = JSON.stringify(body);
  const head = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(json)}`,
    `X-Paddock-Error: ${body.error}`,
    `X-Paddock-Reason: ${body.reason}`,
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
