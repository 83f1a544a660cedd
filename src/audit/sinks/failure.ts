import { isPaddockError, PaddockError } from '../../core/errors.ts';

// How a transport tells the runner what went wrong: PDK_AUDIT_SINK_REJECTED is final (the
// batch goes to the dead-letter file at once), anything else is retried with backoff.

/** A refusal that retrying cannot fix (HTTP 4xx other than 408 and 429, a malformed batch). */
export function sinkRejected(sink: string, detail: string): PaddockError {
  return new PaddockError('PDK_AUDIT_SINK_REJECTED', `audit sink ${sink} rejected a batch: ${detail}`);
}

/** A failure worth retrying; `retryAfterMs` when the collector said how long to wait. */
export function sinkUnavailable(sink: string, detail: string, retryAfterMs?: number): PaddockError {
  return new PaddockError('PDK_AUDIT_SINK_UNAVAILABLE', `audit sink ${sink} is unavailable: ${detail}`, {
    details: retryAfterMs === undefined ? undefined : { retryAfterMs },
  });
}

export function isPermanent(error: unknown): boolean {
  return isPaddockError(error, 'PDK_AUDIT_SINK_REJECTED') || isPaddockError(error, 'PDK_AUDIT_SINK_CONFIG');
}

export function retryAfterMs(error: unknown): number | undefined {
  if (!isPaddockError(error, 'PDK_AUDIT_SINK_UNAVAILABLE')) return undefined;
  return (error.details as { retryAfterMs?: number } | undefined)?.retryAfterMs;
}
