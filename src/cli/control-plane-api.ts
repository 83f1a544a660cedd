import { type ErrorCode, ERRORS, PaddockError } from '../core/errors.ts';

// The CLI's one way to call the control plane's JSON API (docs/api.md): `Authorization:
// Bearer`, JSON bodies, and the server's coded errors (`{"error": {"code", "message"}}`) back as
// PaddockErrors with the same code and message, so the user sees what the server said.

/** Largest answer read: review lists and session lists are far below it. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * Calls `METHOD server+path`; resolves to the parsed JSON answer (undefined when empty).
 * PDK_AUTH_SERVER_UNREACHABLE when the server cannot be reached or does not answer in JSON;
 * otherwise the server's own error code.
 * @example await callControlPlane(server, '/api/reviews?status=pending', { token })
 */
export async function callControlPlane(
  server: string,
  path: string,
  init: { method?: string; token?: string; body?: unknown } = {},
): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (init.token) headers['authorization'] = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const base = server.replace(/\/+$/, '');
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    redirect: 'error',
  }).catch((error: Error) => {
    throw new PaddockError('PDK_AUTH_SERVER_UNREACHABLE', `${server}: ${error.message}`, { cause: error });
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text && text.length <= MAX_ANSWER_BYTES ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code =
      typeof error?.code === 'string' && error.code in ERRORS ? (error.code as ErrorCode) : undefined;
    const message = typeof error?.message === 'string' ? error.message : undefined;
    if (code) throw new PaddockError(code, message);
    throw new PaddockError(
      'PDK_AUTH_SERVER_UNREACHABLE',
      `${server} answered ${response.status} to ${init.method ?? 'GET'} ${path}${message ? `: ${message}` : ''}`,
    );
  }
  if (text && body === undefined)
    throw new PaddockError(
      'PDK_AUTH_SERVER_UNREACHABLE',
      `${server} answered ${path} with something other than JSON`,
    );
  return body;
}
