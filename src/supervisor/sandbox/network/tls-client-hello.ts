// Reads the server name from a TLS ClientHello without terminating TLS, for routing the
// 443 listener and for holding L4 tunnels to their CONNECT target. The hello may arrive
// split over several TCP segments and over several TLS records (both are legal and both
// are used to dodge naive SNI filters), so the parser reassembles handshake fragments
// across records and reports `incomplete` until it has the whole message. Anything
// ambiguous is an error: two server_name entries, repeated extensions, trailing bytes,
// non-handshake records before the hello ends.

/** Largest ClientHello handshake message accepted (post-quantum key shares make them ~2 KB). */
export const MAX_HELLO_BYTES = 16 * 1024;

export type ClientHelloResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'not-tls' }
  | { readonly kind: 'error'; readonly detail: string }
  | {
      readonly kind: 'hello';
      /** The host_name from server_name, as sent; undefined when the extension is absent. */
      readonly serverName: string | undefined;
      /** Whether the hello carries Encrypted Client Hello (its real server name is hidden). */
      readonly ech: boolean;
    };

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const MAX_RECORD = 16_384;
const EXT_SERVER_NAME = 0x0000;
const EXT_ECH = 0xfe0d;

/**
 * Parses the ClientHello at the start of `buffer` (TLS records as received). `maxBytes`
 * bounds the handshake message; a larger hello is an error, not a reason to buffer more.
 */
export function parseClientHello(buffer: Buffer, maxBytes: number): ClientHelloResult {
  if (buffer.length === 0) return { kind: 'incomplete' };
  if (buffer[0] !== HANDSHAKE) return { kind: 'not-tls' };
  const fragments: Buffer[] = [];
  let collected = 0;
  let needed = -1;
  let offset = 0;
  while (needed < 0 || collected < needed) {
    if (buffer.length < offset + 5) return { kind: 'incomplete' };
    if (buffer[offset] !== HANDSHAKE)
      return { kind: 'error', detail: 'non-handshake record inside the ClientHello' };
    if (buffer[offset + 1] !== 0x03) return { kind: 'error', detail: 'unsupported record version' };
    const length = buffer.readUInt16BE(offset + 3);
    if (length === 0 || length > MAX_RECORD) return { kind: 'error', detail: 'invalid record length' };
    if (buffer.length < offset + 5 + length) {
      // Fail early when the message header already says it is too large.
      const partial = Buffer.concat([...fragments, buffer.subarray(offset + 5)]);
      if (partial.length >= 4 && partial.readUIntBE(1, 3) > maxBytes)
        return { kind: 'error', detail: 'ClientHello too large' };
      return { kind: 'incomplete' };
    }
    fragments.push(buffer.subarray(offset + 5, offset + 5 + length));
    collected += length;
    offset += 5 + length;
    if (needed < 0 && collected >= 4) {
      const head = Buffer.concat(fragments);
      if (head[0] !== CLIENT_HELLO)
        return { kind: 'error', detail: 'first handshake message is not a ClientHello' };
      needed = 4 + head.readUIntBE(1, 3);
      if (needed - 4 > maxBytes) return { kind: 'error', detail: 'ClientHello too large' };
    }
  }
  const message = Buffer.concat(fragments);
  if (message.length !== needed)
    return { kind: 'error', detail: 'data after the ClientHello in its last record' };
  return parseBody(message.subarray(4));
}

function parseBody(body: Buffer): ClientHelloResult {
  const fail = (detail: string): ClientHelloResult => ({ kind: 'error', detail });
  let at = 2 + 32; // legacy_version, random
  if (body.length < at + 1) return fail('truncated ClientHello');
  const sessionLength = body[at]!;
  if (sessionLength > 32) return fail('invalid session id length');
  at += 1 + sessionLength;
  if (body.length < at + 2) return fail('truncated ClientHello');
  const suitesLength = body.readUInt16BE(at);
  if (suitesLength < 2 || suitesLength % 2 !== 0) return fail('invalid cipher suites length');
  at += 2 + suitesLength;
  if (body.length < at + 1) return fail('truncated ClientHello');
  const compressionLength = body[at]!;
  if (compressionLength < 1) return fail('no compression methods');
  at += 1 + compressionLength;
  if (at > body.length) return fail('truncated ClientHello');
  if (at === body.length) return { kind: 'hello', serverName: undefined, ech: false };
  if (body.length < at + 2) return fail('truncated extensions');
  const extensionsLength = body.readUInt16BE(at);
  at += 2;
  if (at + extensionsLength !== body.length) return fail('extensions length does not match the message');
  const seen = new Set<number>();
  let serverName: string | undefined;
  let ech = false;
  while (at < body.length) {
    if (body.length < at + 4) return fail('truncated extension');
    const type = body.readUInt16BE(at);
    const length = body.readUInt16BE(at + 2);
    const data = body.subarray(at + 4, at + 4 + length);
    if (data.length !== length) return fail('truncated extension');
    if (seen.has(type)) return fail(`extension ${type} repeated`);
    seen.add(type);
    if (type === EXT_SERVER_NAME) {
      const parsed = parseServerName(data);
      if (typeof parsed !== 'string') return fail(parsed.error);
      serverName = parsed;
    }
    if (type === EXT_ECH) ech = true;
    at += 4 + length;
  }
  return { kind: 'hello', serverName, ech };
}

function parseServerName(data: Buffer): string | { error: string } {
  if (data.length < 2 || data.readUInt16BE(0) !== data.length - 2)
    return { error: 'invalid server_name list length' };
  let at = 2;
  let name: string | undefined;
  while (at < data.length) {
    if (data.length < at + 3) return { error: 'truncated server_name entry' };
    const type = data[at]!;
    const length = data.readUInt16BE(at + 1);
    if (data.length < at + 3 + length || length === 0) return { error: 'invalid server_name entry' };
    if (type !== 0) return { error: `unknown server_name type ${type}` };
    if (name !== undefined) return { error: 'more than one host_name in server_name' };
    const bytes = data.subarray(at + 3, at + 3 + length);
    if (!bytes.every((byte) => byte > 0x20 && byte < 0x7f))
      return { error: 'server name is not printable ASCII' };
    name = bytes.toString('latin1');
    at += 3 + length;
  }
  return name ?? { error: 'empty server_name list' };
}
