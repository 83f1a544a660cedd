// Reads the server name (SNI) from the first bytes a TLS client sends, without terminating TLS:
// the transparent listener routes on it. Bounded: a ClientHello larger than MAX_HELLO_BYTES, or
// anything that is not a well-formed ClientHello, is reported as invalid rather than waited for.

/** Largest ClientHello handshake message accepted (post-quantum key shares make them ~2 KB). */
export const MAX_HELLO_BYTES = 16 * 1024;

export type ClientHelloResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly why: string }
  /** `serverName` is '' when the client sent no server_name extension (e.g. an IP literal). */
  | { readonly kind: 'complete'; readonly serverName: string };

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXTENSION_SERVER_NAME = 0;
const NAME_TYPE_HOST = 0;

/** Joins the handshake bytes carried by consecutive TLS records at the start of `data`. */
function handshakeBytes(data: Buffer): { bytes: Buffer; complete: boolean } | string {
  const parts: Buffer[] = [];
  let offset = 0;
  let total = 0;
  while (offset + 5 <= data.length) {
    if (data[offset] !== RECORD_HANDSHAKE) return 'not a TLS handshake record';
    if (data[offset + 1] !== 3) return 'not a TLS record version';
    const length = data.readUInt16BE(offset + 3);
    if (length === 0 || length > 16384 + 256) return 'bad TLS record length';
    const fragment = data.subarray(offset + 5, offset + 5 + length);
    parts.push(fragment);
    total += fragment.length;
    if (fragment.length < length) break;
    offset += 5 + length;
    const bytes = Buffer.concat(parts);
    if (bytes.length >= 4 && bytes.length >= 4 + bytes.readUIntBE(1, 3)) return { bytes, complete: true };
    if (total > MAX_HELLO_BYTES + 4) return 'ClientHello too large';
  }
  if (data.length > 0 && data[0] !== RECORD_HANDSHAKE) return 'not a TLS handshake record';
  return { bytes: Buffer.concat(parts), complete: false };
}

/**
 * Parses the ClientHello at the start of `data` (the bytes received so far).
 * @example parseClientHello(firstBytes) // { kind: 'complete', serverName: 'api.github.com' }
 */
export function parseClientHello(data: Buffer): ClientHelloResult {
  const joined = handshakeBytes(data);
  if (typeof joined === 'string') return { kind: 'invalid', why: joined };
  const hello = joined.bytes;
  if (hello.length >= 1 && hello[0] !== HANDSHAKE_CLIENT_HELLO)
    return { kind: 'invalid', why: 'not a ClientHello' };
  if (hello.length >= 4 && hello.readUIntBE(1, 3) > MAX_HELLO_BYTES) {
    return { kind: 'invalid', why: 'ClientHello too large' };
  }
  if (!joined.complete) return { kind: 'incomplete' };
  const end = 4 + hello.readUIntBE(1, 3);
  try {
    return { kind: 'complete', serverName: readServerName(hello.subarray(4, end)) };
  } catch (error) {
    return { kind: 'invalid', why: (error as Error).message };
  }
}

/** Walks a ClientHello body to the server_name extension. Throws on any structural error. */
function readServerName(body: Buffer): string {
  let at = 2 + 32; // legacy_version, random
  const skip = (lengthBytes: number) => {
    if (at + lengthBytes > body.length) throw new Error('truncated ClientHello');
    const length = body.readUIntBE(at, lengthBytes);
    at += lengthBytes + length;
    if (at > body.length) throw new Error('truncated ClientHello');
  };
  skip(1); // session id
  skip(2); // cipher suites
  skip(1); // compression methods
  if (at === body.length) return ''; // no extensions at all
  if (at + 2 > body.length) throw new Error('truncated extensions');
  const extensionsEnd = at + 2 + body.readUInt16BE(at);
  if (extensionsEnd > body.length) throw new Error('truncated extensions');
  at += 2;
  while (at + 4 <= extensionsEnd) {
    const type = body.readUInt16BE(at);
    const length = body.readUInt16BE(at + 2);
    const data = body.subarray(at + 4, at + 4 + length);
    if (data.length !== length) throw new Error('truncated extension');
    at += 4 + length;
    if (type !== EXTENSION_SERVER_NAME) continue;
    if (length < 5 || data.readUInt16BE(0) !== length - 2) throw new Error('bad server_name list');
    if (data[2] !== NAME_TYPE_HOST) throw new Error('server_name is not a host name');
    const nameLength = data.readUInt16BE(3);
    if (nameLength === 0 || 5 + nameLength > length) throw new Error('bad server_name length');
    const name = data.subarray(5, 5 + nameLength).toString('latin1');
    // RFC 6066: ASCII host name, no trailing dot. Anything else is not routable.
    if (!/^[\x21-\x7e]+$/.test(name)) throw new Error('server_name is not printable ASCII');
    return name;
  }
  if (at !== extensionsEnd) throw new Error('truncated extensions');
  return '';
}
