import { gzipSync } from 'node:zlib';
import { sinkRejected, sinkUnavailable } from './failure.ts';

// One HTTP POST of a batch, its answer sorted into delivered, retry (408, 429, 5xx, network
// errors; Retry-After honoured) and rejected for good (any other 4xx, and 3xx: a collector
// that redirects is misconfigured). Response bodies are read for the caller but never logged.

const REQUEST_TIMEOUT_MS = 30_000;

export interface PostOptions {
  readonly sink: string;
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly gzip?: boolean;
  readonly signal: AbortSignal;
  /** Further statuses to retry rather than reject (Azure: 401, an expired token is fetched anew). */
  readonly retryStatuses?: readonly number[];
}

/** Retry-After as seconds or an HTTP date, in milliseconds. */
function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Posts `body`; resolves with the response text on 2xx, throws a sink failure otherwise. */
export async function postBatch(options: PostOptions): Promise<string> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Uint8Array = options.body;
  if (options.gzip) {
    body = gzipSync(options.body);
    headers['content-encoding'] = 'gzip';
  }
  let response: Response;
  try {
    response = await fetch(options.url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    throw sinkUnavailable(options.sink, cause?.message ?? (error as Error).message);
  }
  const text = await response.text().catch(() => '');
  if (response.ok) return text;
  const status = response.status;
  if (status === 408 || status === 429 || status >= 500 || options.retryStatuses?.includes(status))
    throw sinkUnavailable(options.sink, `HTTP ${status}`, retryAfter(response.headers.get('retry-after')));
  throw sinkRejected(options.sink, `HTTP ${status}`);
}
