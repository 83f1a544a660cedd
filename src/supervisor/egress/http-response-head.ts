import { type BodyFraming, type HeaderField, headerValues, trimFieldValue } from './http-head.ts';

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
// The whole head in one pass: a status line, then fields of a token, a colon and a value of
// visible characters, SP, HTAB or obs-text (no CR, LF or other controls anywhere).
const HEAD =
  /^HTTP\/1\.([01]) (\d{3})(?: [\t\x20-\x7e\x80-\xff]*)?(?:\r\n[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*)*$/;

/** Parses a response head from the start of `buffer`. */
export function parseResponseHead(buffer: Buffer, maxBytes: number): ResponseHeadResult {
  const end = buffer.indexOf(CRLFCRLF);
  if (end < 0)
    return buffer.length > maxBytes
      ? { kind: 'error', detail: 'response head too large' }
      : { kind: 'incomplete' };
  const text = buffer.toString('latin1', 0, end);
  const status = HEAD.exec(text);
  if (!status) {
    const statusLine = text.split('\r\n', 1)[0]!;
    return {
      kind: 'error',
      detail: /^HTTP\/1\.[01] \d{3}(?: [\t\x20-\x7e\x80-\xff]*)?$/.test(statusLine)
        ? 'invalid response header line'
        : 'invalid status line',
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

/** How the response to `method` is delimited (RFC 9112 §6.3), or an error string for ambiguity. */
export function responseFraming(head: ResponseHead, method: string): ResponseFraming | string {
  if (method === 'HEAD' || head.status < 200 || head.status === 204 || head.status === 304)
    return { kind: 'none' };
  const encodings = headerValues(head, 'transfer-encoding');
  const lengths = headerValues(head, 'content-length');
  if (encodings.length > 0) {
    if (lengths.length > 0) return 'response has both Content-Length and Transfer-Encoding';
    const codings = encodings
      .join(',')
      .split(',')
      .map((coding) => coding.trim().toLowerCase());
    return codings.at(-1) === 'chunked' && codings.filter((c) => c === 'chunked').length === 1
      ? { kind: 'chunked' }
      : { kind: 'close' };
  }
  if (lengths.length === 1 && DECIMAL.test(lengths[0]!)) {
    const length = Number(lengths[0]);
    return length === 0 ? { kind: 'none' } : { kind: 'length', length };
  }
  if (lengths.length > 0) {
    const distinct = new Set(lengths.flatMap((value) => value.split(',').map((part) => part.trim())));
    const [only] = distinct;
    if (distinct.size !== 1 || !only || !/^\d{1,15}$/.test(only))
      return 'response has an invalid Content-Length';
    return Number(only) === 0 ? { kind: 'none' } : { kind: 'length', length: Number(only) };
  }
  return { kind: 'close' };
}
