import type { BodyFraming } from './http-head.ts';
import type { SocketReader } from './socket-reader.ts';

// The whole body of a request the gateway holds for review: a review is bound to the digest of
// the exact body, so it must have arrived before the request is held. The bytes stay buffered,
// unconsumed, in the reader: an approved request is forwarded from there as usual (its framing
// checked again on the way), a refused one is consumed so the connection can carry the retry.

export type HeldBody =
  | {
      readonly kind: 'body';
      /** The body's bytes (chunked framing removed; trailers are not part of it). */
      readonly body: Buffer;
      /** How many buffered bytes the body takes on the wire, framing included. */
      readonly wireLength: number;
    }
  | { readonly kind: 'too_large' }
  | { readonly kind: 'malformed'; readonly detail: string }
  | { readonly kind: 'closed' };

type Decoded = HeldBody | { readonly kind: 'incomplete' };

const MAX_SIZE_LINE = 64;
const MAX_TRAILER_BYTES = 8 * 1024;
const SIZE_LINE = /^[0-9A-Fa-f]{1,12}$/;
const TRAILER_FIELD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Waits until the body framed by `framing` is buffered in `reader`, at most `maxBytes` of it.
 * Too large is known from Content-Length at once, or from chunk sizes as they arrive.
 */
export async function awaitHeldBody(
  reader: SocketReader,
  framing: BodyFraming,
  maxBytes: number,
): Promise<HeldBody> {
  for (;;) {
    const decoded = decodeBody(reader.peek(), framing, maxBytes);
    if (decoded.kind !== 'incomplete') return decoded;
    try {
      await reader.more();
    } catch {
      return { kind: 'closed' };
    }
  }
}

/** Decodes the body at the start of `buffer`, or says more bytes are needed. */
export function decodeBody(buffer: Buffer, framing: BodyFraming, maxBytes: number): Decoded {
  switch (framing.kind) {
    case 'none':
      return { kind: 'body', body: Buffer.alloc(0), wireLength: 0 };
    case 'length':
      if (framing.length > maxBytes) return { kind: 'too_large' };
      if (buffer.length < framing.length) return { kind: 'incomplete' };
      return {
        kind: 'body',
        body: Buffer.from(buffer.subarray(0, framing.length)),
        wireLength: framing.length,
      };
    case 'chunked':
      return decodeChunked(buffer, maxBytes);
  }
}

/** One CRLF-terminated line at `from`: the same strictness as the forwarding path (http-body.ts). */
function lineAt(
  buffer: Buffer,
  from: number,
  max: number,
): { text: string; next: number } | 'incomplete' | string {
  const lf = buffer.indexOf(0x0a, from);
  if (lf < 0) return buffer.length - from >= max ? 'chunk framing line too long' : 'incomplete';
  if (lf + 1 - from > max) return 'chunk framing line too long';
  if (lf === from || buffer[lf - 1] !== 0x0d) return 'bare LF in chunk framing';
  const text = buffer.toString('latin1', from, lf - 1);
  if (text.includes('\r')) return 'bare CR in chunk framing';
  return { text, next: lf + 1 };
}

function decodeChunked(buffer: Buffer, maxBytes: number): Decoded {
  const parts: Buffer[] = [];
  let total = 0;
  let at = 0;
  for (;;) {
    const line = lineAt(buffer, at, MAX_SIZE_LINE);
    if (line === 'incomplete') return { kind: 'incomplete' };
    if (typeof line === 'string') return { kind: 'malformed', detail: line };
    if (!SIZE_LINE.test(line.text))
      return { kind: 'malformed', detail: `invalid chunk size line "${line.text.slice(0, 20)}"` };
    const size = Number.parseInt(line.text, 16);
    at = line.next;
    if (size === 0) break;
    total += size;
    if (total > maxBytes) return { kind: 'too_large' };
    if (buffer.length < at + size + 2) return { kind: 'incomplete' };
    parts.push(buffer.subarray(at, at + size));
    if (buffer[at + size] !== 0x0d || buffer[at + size + 1] !== 0x0a)
      return { kind: 'malformed', detail: 'chunk data not followed by CRLF' };
    at += size + 2;
  }
  const trailerStart = at;
  for (;;) {
    const line = lineAt(buffer, at, MAX_TRAILER_BYTES - (at - trailerStart));
    if (line === 'incomplete') return { kind: 'incomplete' };
    if (typeof line === 'string') return { kind: 'malformed', detail: line };
    at = line.next;
    if (line.text.length === 0) break;
    if (!TRAILER_FIELD.test(line.text)) return { kind: 'malformed', detail: 'invalid trailer field' };
  }
  return { kind: 'body', body: Buffer.concat(parts), wireLength: at };
}
