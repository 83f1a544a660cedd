import type { DecisionRequest, PolicyDecision } from '../../policy/index.ts';

// The PDP socket's wire format (docs/policy.md, "Socket protocol"): newline-delimited JSON, one
// request object per line, one response object per line, in request order.
//
//   → {"id":1,"action":"exec","argv":["git","push","origin","main"]}
//   ← {"id":1,"decision":"deny","reason":"command_denied","policyIds":["commands.deny[6]"],
//      "bundle":{"id":"coding-agent:…","version":"1.2.0"}}
//
// A line that is not such an object is answered with a deny and an error object; the principal
// is the session the socket serves and never comes from the request.

/** The id a client gave its request, echoed in the response. */
export type RequestId = string | number | null;

/** A parsed line: the request, or why it is malformed. */
export type ParsedLine =
  | { readonly id: RequestId; readonly request: DecisionRequest }
  | { readonly id: RequestId; readonly error: string; readonly fields?: unknown };

const MAX_ID_CHARS = 128;

function idOf(value: unknown): RequestId | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && value.length <= MAX_ID_CHARS) return value;
  return undefined;
}

/** Parses one request line (without its newline). */
export function parseRequestLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { id: null, error: 'the line is not JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { id: null, error: 'the line is not a JSON object' };
  const fields = value as Record<string, unknown>;
  const id = idOf(fields['id']);
  if (id === undefined)
    return { id: null, error: `id must be a string of at most ${MAX_ID_CHARS} characters or an integer` };
  if ('principal' in fields)
    return { id, error: 'principal is set by the supervisor, not by the request', fields };
  if (typeof fields['action'] !== 'string') return { id, error: 'action is missing', fields };
  const { id: _id, ...request } = fields;
  return { id, request: request as unknown as DecisionRequest };
}

/** The response line (with its newline) for a decision. */
export function responseLine(
  id: RequestId,
  decision: PolicyDecision,
  error?: { code: string; message: string },
  review?: { readonly reviewId: string; readonly message: string; readonly expiresAt?: string },
): string {
  return `${JSON.stringify({
    id,
    decision: decision.decision,
    reason: decision.reason,
    policyIds: decision.policyIds,
    bundle: decision.bundle,
    ...(decision.detail ? { detail: decision.detail } : {}),
    ...(error ? { error } : {}),
    ...(review ? { review } : {}),
  })}\n`;
}
