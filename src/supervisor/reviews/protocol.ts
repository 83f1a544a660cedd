import { join } from 'node:path';
import { ERRORS, type ErrorCode, PaddockError } from '../../core/errors.ts';
import type { ReviewStatusName } from '../../policy/index.ts';
import { DEFAULT_STATE_DIR } from '../sandbox/sandbox-state.ts';

// The standalone supervisor's review socket: one JSON line in, one JSON line out, per
// connection. `paddock review` is its client. The socket lives in a root-only directory
// outside every sandbox; whoever can open it is trusted to say who they are (see
// docs/reviews.md, "Who may approve"): the control plane will authenticate reviewers by SSO.

/**
 * Where each `paddock run` with review gates serves its own review socket, one directory per run
 * (`/run/paddock/reviews/RUN/review.sock`, its store beside it), and where `paddock review` looks.
 */
export const REVIEW_SOCKETS_DIR = join(DEFAULT_STATE_DIR, 'reviews');
/** The socket's name inside a run's review directory. */
export const REVIEW_SOCKET_NAME = 'review.sock';

/** A request or response line longer than this is refused (reasons are at most 1000 characters). */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Responses carry views with recorded arguments (each at most 256 KiB), up to 1000 of them. */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

const STATUSES: readonly ReviewStatusName[] = ['pending', 'approved', 'denied', 'expired', 'cancelled'];
/** A login or `--as` name: an account name or an email address, nothing that could inject. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,255}$/;
const REVIEW_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export type ReviewSocketRequest =
  | { readonly op: 'list'; readonly status?: ReviewStatusName; readonly limit?: number }
  | { readonly op: 'show'; readonly id: string }
  | {
      readonly op: 'approve' | 'deny';
      readonly id: string;
      readonly reason: string;
      /** The local account that runs `paddock review`. */
      readonly login: string;
      /** `--as USER`: the reviewer identity asserted instead of the login. */
      readonly as?: string;
    };

export type ReviewSocketResponse =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

function bad(message: string): PaddockError {
  return new PaddockError('PDK_REVIEW_INVALID', `review socket request: ${message}`);
}

function field(value: Record<string, unknown>, key: string, pattern: RegExp, what: string): string {
  const text = value[key];
  if (typeof text !== 'string' || !pattern.test(text)) throw bad(`${key} must be ${what}`);
  return text;
}

/** Parses and checks one request line; PDK_REVIEW_INVALID names what is wrong. */
export function parseRequest(line: string): ReviewSocketRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw bad('not a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not a JSON object');
  const input = value as Record<string, unknown>;
  switch (input['op']) {
    case 'list': {
      const status = input['status'];
      const limit = input['limit'];
      if (status !== undefined && !STATUSES.includes(status as ReviewStatusName))
        throw bad(`status must be one of ${STATUSES.join(', ')}`);
      if (
        limit !== undefined &&
        !(Number.isInteger(limit) && (limit as number) >= 1 && (limit as number) <= 1000)
      )
        throw bad('limit must be an integer from 1 to 1000');
      return {
        op: 'list',
        status: status as ReviewStatusName | undefined,
        limit: limit as number | undefined,
      };
    }
    case 'show':
      return { op: 'show', id: field(input, 'id', REVIEW_ID, 'a review id') };
    case 'approve':
    case 'deny': {
      const reason = input['reason'];
      if (typeof reason !== 'string') throw bad('reason must be a string');
      const as = input['as'] === undefined ? undefined : field(input, 'as', NAME, 'a user name or email');
      return {
        op: input['op'] as 'approve' | 'deny',
        id: field(input, 'id', REVIEW_ID, 'a review id'),
        reason,
        login: field(input, 'login', NAME, 'a local account name'),
        as,
      };
    }
    default:
      throw bad('op must be list, show, approve or deny');
  }
}

/** The error a response carries, as the PaddockError the server raised (unknown codes become PDK_INTERNAL). */
export function responseError(error: { code: string; message: string }): PaddockError {
  const code = (Object.hasOwn(ERRORS, error.code) ? error.code : 'PDK_INTERNAL') as ErrorCode;
  return new PaddockError(code, String(error.message));
}

/** The response for an error: exposed PaddockErrors as they are, anything else as a generic failure. */
export function errorResponse(error: unknown): ReviewSocketResponse {
  if (error instanceof PaddockError && error.expose) {
    return { ok: false, error: { code: error.code, message: error.message } };
  }
  return {
    ok: false,
    error: { code: 'PDK_INTERNAL', message: `${ERRORS.PDK_INTERNAL.message}: see the supervisor's log` },
  };
}
