// A strict HTTP/1.1 request-head parser for what the agent sends.
//
// Why not node:http: its parser (llhttp) is strict by default, but its strictness can be
// switched off process-wide (--insecure-http-parser, NODE_OPTIONS), it joins or drops
// duplicate headers before we could see them, and a server built on it re-serializes
// requests, so what we check is not byte-for-byte what we forward. The gateway must refuse
// ambiguity rather than normalize it, and must forward exactly what it checked; this parser
// keeps each field as sent (latin1, so bytes round-trip), and refuses:
//   - bare LF or CR line endings, NUL and other control characters, obs-text in names,
//   - obs-fold (a line starting with SP or HTAB), whitespace before the colon,
//   - a request line that is not METHOD SP TARGET SP HTTP/1.x with single spaces,
//   - heads over maxHeaderBytes or with more than maxHeaderCount fields,
//   - a missing or repeated Host in HTTP/1.1.
// Framing checks (Content-Length / Transfer-Encoding) are in requestFraming below.

/** One header field as sent: the name in its original case, the value without surrounding whitespace. */
export interface HeaderField {
  readonly name: string;
  readonly lower: string;
  readonly value: string;
}

export interface RequestHead {
  readonly method: string;
  readonly target: string;
  readonly version: '1.0' | '1.1';
  readonly fields: readonly HeaderField[];
  /** Length of the head in bytes, including the empty line that ends it. */
  readonly length: number;
}

export type HeadError = {
  readonly kind: 'error';
  readonly reason: 'request_malformed' | 'header_too_large';
  readonly detail: string;
};
export type HeadResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'head'; readonly head: RequestHead }
  | HeadError;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TARGET = /^[\x21-\x7e]+$/;
// Field values: visible ASCII, SP, HTAB and obs-text; no CTLs.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
// Field lines, each preceded by CRLF: a token, a colon, then a value without CTLs.
export const FIELD_LINES = /^(?:\r\n[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*)*$/;
const CRLFCRLF = Buffer.from('\r\n\r\n');

function error(detail: string, reason: HeadError['reason'] = 'request_malformed'): HeadError {
  return { kind: 'error', reason, detail };
}

/**
 * Parses a request head from the start of `buffer`. Returns `incomplete` while the head
 * has not fully arrived (and is still within limits), or an error as soon as the bytes
 * seen so far cannot be a valid head.
 */
export function parseRequestHead(buffer: Buffer, maxHeaderBytes: number, maxHeaderCount: number): HeadResult {
  const end = buffer.indexOf(CRLFCRLF);
  const byteError = headByteError(buffer, end);
  if (byteError) return error(byteError);
  if (end < 0) {
    return buffer.length > maxHeaderBytes
      ? error(`head exceeds ${maxHeaderBytes} bytes`, 'header_too_large')
      : { kind: 'incomplete' };
  }
  if (end + 4 > maxHeaderBytes) return error(`head exceeds ${maxHeaderBytes} bytes`, 'header_too_large');
  const text = buffer.toString('latin1', 0, end);
  const lineEnd = text.indexOf('\r\n');
  const parts = (lineEnd < 0 ? text : text.slice(0, lineEnd)).split(' ');
  if (parts.length !== 3) return error('request line is not METHOD SP TARGET SP VERSION');
  const [method, target, versionText] = parts as [string, string, string];
  if (!TOKEN.test(method)) return error('invalid method');
  if (!TARGET.test(target)) return error('invalid request target');
  if (versionText !== 'HTTP/1.1' && versionText !== 'HTTP/1.0') return error('unsupported HTTP version');
  // Every field line at once; only a head that fails is gone through line by line, to say why.
  const block = lineEnd < 0 ? '' : text.slice(lineEnd);
  if (!FIELD_LINES.test(block)) return fieldError(block.split('\r\n'), maxHeaderCount);
  const fields: HeaderField[] = [];
  let hosts = 0;
  for (let at = 0; at < block.length; ) {
    const next = block.indexOf('\r\n', at + 2);
    const line = block.slice(at + 2, next < 0 ? block.length : next);
    if (fields.length === maxHeaderCount)
      return error(`more than ${maxHeaderCount} header fields`, 'header_too_large');
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const lower = name.toLowerCase();
    if (lower === 'host') hosts += 1;
    fields.push({ name, lower, value: trimFieldValue(line, colon + 1) });
    at = next < 0 ? block.length : next;
  }
  const version = versionText === 'HTTP/1.1' ? '1.1' : '1.0';
  if (hosts > 1) return error('more than one Host header');
  if (version === '1.1' && hosts === 0) return error('HTTP/1.1 request without Host');
  return { kind: 'head', head: { method, target, version, fields, length: end + 4 } };
}

/**
 * A bare LF, a bare CR or a NUL in the head (up to `end`, where CRLFCRLF starts, or all of
 * `buffer` while the head has not ended), so a head fails as soon as the bytes allow.
 */
export function headByteError(buffer: Buffer, end: number): string | undefined {
  const scanned = end < 0 ? buffer.length : end + 4;
  // indexOf scans run natively; a byte loop in JS costs more than the rest of the parse.
  for (let at = buffer.indexOf(0x0a); at >= 0 && at < scanned; at = buffer.indexOf(0x0a, at + 1)) {
    if (at === 0 || buffer[at - 1] !== 0x0d) return 'bare LF line ending';
  }
  for (let at = buffer.indexOf(0x0d); at >= 0 && at < scanned; at = buffer.indexOf(0x0d, at + 1)) {
    if (at + 1 < buffer.length && buffer[at + 1] !== 0x0a) return 'bare CR in the head';
  }
  const nul = buffer.indexOf(0);
  if (nul >= 0 && nul < scanned) return 'NUL byte in the head';
  return undefined;
}

/** Why a block of field lines (split on CRLF, the first element empty) is not acceptable. */
function fieldError(lines: readonly string[], maxHeaderCount: number): HeadError {
  if (lines.length - 1 > maxHeaderCount)
    return error(`more than ${maxHeaderCount} header fields`, 'header_too_large');
  return error(fieldLinesProblem(lines));
}

/** What is wrong in a block of field lines that failed the one-pass check (split on CRLF, the first element empty). */
export function fieldLinesProblem(lines: readonly string[]): string {
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.startsWith(' ') || line.startsWith('\t')) return 'obs-fold (folded header line)';
    const colon = line.indexOf(':');
    if (colon <= 0) return 'header line without a field name';
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return `invalid header name "${name.slice(0, 40)}"`;
    const value = trimFieldValue(line, colon + 1);
    if (!FIELD_VALUE.test(value)) return `invalid character in header "${name}"`;
  }
  return 'invalid header line';
}

/** A field value from `start` with the optional whitespace around it (SP, HTAB) removed. */
export function trimFieldValue(line: string, start: number): string {
  let from = start;
  let to = line.length;
  while (from < to && (line.charCodeAt(from) === 0x20 || line.charCodeAt(from) === 0x09)) from++;
  while (to > from && (line.charCodeAt(to - 1) === 0x20 || line.charCodeAt(to - 1) === 0x09)) to--;
  return from === start && to === line.length ? line.slice(start) : line.slice(from, to);
}

/** All values of a header (by lower-case name), in order. */
export function headerValues(head: { readonly fields: readonly HeaderField[] }, lower: string): string[] {
  const values: string[] = [];
  for (const field of head.fields) if (field.lower === lower) values.push(field.value);
  return values;
}

/** The one value of a header, or undefined when absent. */
export function headerValue(
  head: { readonly fields: readonly HeaderField[] },
  lower: string,
): string | undefined {
  for (const field of head.fields) if (field.lower === lower) return field.value;
  return undefined;
}

const NO_TOKENS: ReadonlySet<string> = new Set();

/** Lower-case tokens of the Connection header(s). */
export function connectionTokens(head: { readonly fields: readonly HeaderField[] }): ReadonlySet<string> {
  let tokens: Set<string> | undefined;
  for (const field of head.fields) {
    if (field.lower !== 'connection') continue;
    tokens ??= new Set();
    for (const token of field.value.split(',')) if (token.trim()) tokens.add(token.trim().toLowerCase());
  }
  // Most messages have no Connection header: no set to build.
  return tokens ?? NO_TOKENS;
}

export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' };

/**
 * How the request body is delimited, refusing every ambiguous combination: both
 * Content-Length and Transfer-Encoding, more than one of either (even with equal values),
 * a Transfer-Encoding other than exactly `chunked`, Transfer-Encoding in HTTP/1.0, or a
 * Content-Length that is not plain decimal digits.
 */
export function requestFraming(head: RequestHead): BodyFraming | HeadError {
  const encodings = headerValues(head, 'transfer-encoding');
  const lengths = headerValues(head, 'content-length');
  if (encodings.length > 0 && lengths.length > 0) return error('both Content-Length and Transfer-Encoding');
  if (encodings.length > 1) return error('more than one Transfer-Encoding header');
  if (lengths.length > 1) return error('more than one Content-Length header');
  if (encodings.length === 1) {
    if (head.version === '1.0') return error('Transfer-Encoding in an HTTP/1.0 request');
    if (encodings[0]!.toLowerCase() !== 'chunked')
      return error('Transfer-Encoding other than exactly "chunked"');
    return { kind: 'chunked' };
  }
  if (lengths.length === 1) {
    if (!/^\d{1,15}$/.test(lengths[0]!)) return error('Content-Length is not a decimal number');
    const length = Number(lengths[0]);
    return length === 0 ? { kind: 'none' } : { kind: 'length', length };
  }
  return { kind: 'none' };
}

/** A request target split into its form (RFC 9112 §3.2). */
export type RequestTarget =
  | { readonly form: 'origin'; readonly path: string; readonly query: string }
  | { readonly form: 'absolute'; readonly authority: string; readonly path: string; readonly query: string }
  | { readonly form: 'authority'; readonly authority: string }
  | { readonly form: 'asterisk' };

/**
 * Splits a request target without normalizing it (no dot-segment removal, no decoding).
 * Absolute form is accepted for `http:` only; userinfo and fragments are refused.
 */
export function parseTarget(method: string, target: string): RequestTarget | undefined {
  if (target.includes('#')) return undefined;
  if (method === 'CONNECT')
    return target.includes('/') ? undefined : { form: 'authority', authority: target };
  if (target === '*') return method === 'OPTIONS' ? { form: 'asterisk' } : undefined;
  if (target.startsWith('/')) return { form: 'origin', ...splitQuery(target) };
  const match = /^http:\/\/([^/?]*)(.*)$/i.exec(target);
  if (!match) return undefined;
  const authority = match[1]!;
  if (authority.length === 0 || authority.includes('@')) return undefined;
  const rest = match[2]!;
  return { form: 'absolute', authority, ...splitQuery(rest.startsWith('/') ? rest : `/${rest}`) };
}

function splitQuery(pathAndQuery: string): { path: string; query: string } {
  const mark = pathAndQuery.indexOf('?');
  return mark < 0
    ? { path: pathAndQuery, query: '' }
    : { path: pathAndQuery.slice(0, mark), query: pathAndQuery.slice(mark) };
}
