import { type BodyFraming, type HeaderField, headerValues } from './http-head.ts';

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

const CRLFCRLF = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Parses a response head from the start of `buffer`. */
export function parseResponseHead(buffer: Buffer, maxBytes: number): ResponseHeadResult {
  const end = buffer.indexOf(CRLFCRLF);
  if (end < 0)
    return buffer.length > maxBytes
      ? { kind: 'error', detail: 'response head too large' }
      : { kind: 'incomplete' };
  const lines = buffer.toString('latin1', 0, end).split('\r\n');
  const status = /^HTTP\/1\.([01]) (\d{3})(?: [\t\x20-\x7e\x80-\xff]*)?$/.exec(lines[0]!);
  if (!status) return { kind: 'error', detail: 'invalid status line' };
  const fields: HeaderField[] = [];
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value) || line.includes('\n') || line.includes('\r')) {
      return { kind: 'error', detail: 'invalid response header line' };
    }
    fields.push({ name, lower: name.toLowerCase(), value });
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
  if (lengths.length > 0) {
    const distinct = new Set(lengths.flatMap((value) => value.split(',').map((part) => part.trim())));
    const [only] = distinct;
    if (distinct.size !== 1 || !only || !/^\d{1,15}$/.test(only))
      return 'response has an invalid Content-Length';
    return Number(only) === 0 ? { kind: 'none' } : { kind: 'length', length: Number(only) };
  }
  return { kind: 'close' };
}
