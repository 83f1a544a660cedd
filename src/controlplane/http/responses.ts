import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERRORS, isPaddockError, PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';

// JSON in and out. Every error leaves as `{error: {code, message, fix}}` with the registry's
// status; an error not meant to leave the process (expose false, or not ours) is sent as
// PDK_INTERNAL and only logged.

const log = createLogger('http');

/** Request bodies larger than this are refused (PDK_HTTP_TOO_LARGE). */
export const MAX_BODY_BYTES = 64 * 1024;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string | string[]>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/** The public form of an error: `{code, message, fix}` and its status. */
export function errorBody(error: unknown): {
  status: number;
  body: { error: { code: string; message: string; fix: string } };
} {
  if (isPaddockError(error) && error.expose) {
    return {
      status: error.status,
      body: { error: { code: error.code, message: error.message, fix: error.fix } },
    };
  }
  const spec = ERRORS.PDK_INTERNAL;
  return {
    status: spec.status,
    body: { error: { code: 'PDK_INTERNAL', message: spec.message, fix: spec.fix } },
  };
}

export function sendError(
  res: ServerResponse,
  error: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (!isPaddockError(error) || !error.expose) {
    log.error(
      { code: isPaddockError(error) ? error.code : 'PDK_INTERNAL', error: (error as Error)?.message },
      'request failed',
    );
  }
  const { status, body } = errorBody(error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, body, headers);
}

/** Reads and parses a JSON body; an empty body is `{}`. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new PaddockError('PDK_HTTP_TOO_LARGE', `request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  // Only JSON: a form post (what a cross-site page can send without a preflight) is refused.
  if (!/^application\/json\b/i.test(type))
    throw new PaddockError(
      'PDK_HTTP_BAD_REQUEST',
      'request body must be JSON (Content-Type: application/json)',
    );
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new PaddockError('PDK_HTTP_BAD_REQUEST', 'request body is not valid JSON', { cause: error });
  }
}
