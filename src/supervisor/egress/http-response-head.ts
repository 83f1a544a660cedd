import {
  type BodyFraming,
  FIELD_LINES,
  fieldLinesProblem,
  type HeaderField,
  headByteError,
  headerValues,
  trimFieldValue,
} from './http-head.ts';

// Response heads from upstream, parsed only as far as the gateway needs them: where the
// response ends (so the next request on a keep-alive connection can be checked), whether
// it switches protocols, and the status for the audit event. Bytes are forwarded as sent.
// Upstream is an allowed service, but an ambiguous response could still desynchronize the
// client connection, so the framing rules are as strict as for requests.

export interface ResponseHead {
  readonly status: number;
  readonly version: '1.0' | '1.1';
  readonly fields: readonly HeaderField[];
  readonly length: number;
}

export type ResponseHeadResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'head'; readonly head: ResponseHead }
  | { readonly kind: 'error'; readonly detail: string };

const DECIMAL = /^\d{1,15}$/;
const CRLFCRLF = Buffer.from('\r\n\r\n');
// A status line: HTTP/1.x, one SP, a three-digit code from 100, then SP and a reason phrase.
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;
// The whole head in one pass: the status line, then the request side's field lines (a token,
// a colon and a value of visible characters, SP, HTAB or obs-text; no CR, LF or other controls).
const HEAD = new RegExp(`${STATUS_LINE.source.slice(0, -1)}${FIELD_LINES.source.slice(1)}`);

/** Parses a response head from the start of `buffer`; fails as soon as the bytes seen cannot be a valid head. */
export function parseResponseHead(buffer: Buffer, maxBytes: number): ResponseHeadResult {
  const end = buffer.indexOf(CRLFCRLF);
  const byteError = headByteError(buffer, end);
  if (byteError) return { kind: 'error', detail: byteError };
  if (end < 0 ? buffer.length > maxBytes : end + 4 > maxBytes)
    return { kind: 'error', detail: `response head too large (over ${maxBytes} bytes)` };
  if (end < 0) return { kind: 'incomplete' };
  const text = buffer.toString('latin1', 0, end);
  const status = HEAD.exec(text);
  if (!status) {
    const lines = text.split('\r\n');
    return {
      kind: 'error',
      detail: STATUS_LINE.test(lines[0]!)
        ? fieldLinesProblem(lines)
        : 'invalid status line (not HTTP/1.x, SP and a three-digit status from 100)',
    };
  }
  const fields: HeaderField[] = [];
  for (let at = text.indexOf('\r\n'); at >= 0; ) {
    const next = text.indexOf('\r\n', at + 2);
    const line = text.slice(at + 2, next < 0 ? text.length : next);
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    fields.push({ name, lower: name.toLowerCase(), value: trimFieldValue(line, colon + 1) });
    at = next;
  }
  return {
    kind: 'head',
    head: { status: Number(status[2]), version: status[1] === '1' ? '1.1' : '1.0', fields, length: end + 4 },
  };
}

/** Response body framing; `close` means the body runs until upstream closes. */
export type ResponseFraming = BodyFraming | { readonly kind: 'close' };

/**
 * How the response to `method` is delimited (RFC 9112 §6.3), or an error string for
 * ambiguity. As for requests: Content-Length with Transfer-Encoding, more than one
 * Content-Length (even equal, which RFC 9110 §8.6 would allow), a Content-Length that is not
 * plain digits, and Transfer-Encoding in HTTP/1.0 are refused. A Transfer-Encoding whose
 * last coding is not a single `chunked` is refused too, not read to close as §6.3 allows:
 * a client that reads it as chunked would take what follows as a second response.
 */
export function responseFraming(head: ResponseHead, method: string): ResponseFraming | string {
  if (method === 'HEAD' || head.status < 200 || head.status === 204 || head.status === 304)
    return { kind: 'none' };
  const encodings = headerValues(head, 'transfer-encoding');
  const lengths = headerValues(head, 'content-length');
  if (encodings.length > 0) {
    if (lengths.length > 0) return 'response has both Content-Length and Transfer-Encoding';
    if (head.version === '1.0') return 'Transfer-Encoding in an HTTP/1.0 response';
    const codings = encodings
      .join(',')
      .split(',')
      .map((coding) => coding.trim().toLowerCase());
    return codings.at(-1) === 'chunked' && codings.filter((c) => c === 'chunked').length === 1
      ? { kind: 'chunked' }
      : 'response Transfer-Encoding does not end in a single "chunked"';
  }
  if (lengths.length > 1) return 'response has more than one Content-Length';
  if (lengths.length === 1) {
    if (!DECIMAL.test(lengths[0]!)) return 'response Content-Length is not a decimal number';
    const length = Number(lengths[0]);
    return length === 0 ? { kind: 'none' } : { kind: 'length', length };
  }
  return { kind: 'close' };
}
