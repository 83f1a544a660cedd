// The SOCKS5 (RFC 1928) messages a listener needs to learn the requested destination and to
// answer: the method greeting and the request. Parsers take the bytes received so far and say
// whether more are needed, so a listener can feed them chunk by chunk with a small bound.

export const SOCKS_VERSION = 5;
/** Method "no authentication required"; the only one offered (the sandbox is the client's identity). */
export const METHOD_NO_AUTH = 0x00;
export const METHOD_NONE_ACCEPTABLE = 0xff;

/** Reply codes (RFC 1928 §6) a listener sends. */
export const SOCKS_REPLY = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowedByRuleset: 0x02,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

export const COMMAND_CONNECT = 0x01;

/** Longest greeting (2 + 255 methods) or request (4 + 1 + 255 + 2) a client can send. */
export const MAX_SOCKS_MESSAGE = 262;

export type Parsed<T> =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly why: string }
  | ({ readonly kind: 'complete'; readonly length: number } & T);

/** Parses the greeting: version, then the offered methods. */
export function parseGreeting(data: Buffer): Parsed<{ readonly methods: readonly number[] }> {
  if (data.length < 1) return { kind: 'incomplete' };
  if (data[0] !== SOCKS_VERSION)
    return { kind: 'invalid', why: `SOCKS version ${data[0]} (only 5 is spoken)` };
  if (data.length < 2) return { kind: 'incomplete' };
  const count = data[1]!;
  if (count === 0) return { kind: 'invalid', why: 'no authentication methods offered' };
  if (data.length < 2 + count) return { kind: 'incomplete' };
  return { kind: 'complete', length: 2 + count, methods: [...data.subarray(2, 2 + count)] };
}

export interface SocksRequest {
  readonly command: number;
  /** Domain name as sent, dotted IPv4, or IPv6 in URL form without brackets. */
  readonly host: string;
  readonly addressType: 'domain' | 'ipv4' | 'ipv6';
  readonly port: number;
}

/** Parses a request: version, command, reserved, address, port. */
export function parseRequest(data: Buffer): Parsed<SocksRequest> {
  if (data.length < 4) return { kind: 'incomplete' };
  if (data[0] !== SOCKS_VERSION) return { kind: 'invalid', why: 'request is not SOCKS5' };
  const command = data[1]!;
  const type = data[3];
  let host: string;
  let addressType: SocksRequest['addressType'];
  let at: number;
  if (type === 0x01) {
    if (data.length < 10) return { kind: 'incomplete' };
    host = [...data.subarray(4, 8)].join('.');
    addressType = 'ipv4';
    at = 8;
  } else if (type === 0x03) {
    if (data.length < 5) return { kind: 'incomplete' };
    const length = data[4]!;
    if (length === 0) return { kind: 'invalid', why: 'empty domain name' };
    if (data.length < 5 + length + 2) return { kind: 'incomplete' };
    host = data.subarray(5, 5 + length).toString('latin1');
    addressType = 'domain';
    at = 5 + length;
  } else if (type === 0x04) {
    if (data.length < 22) return { kind: 'incomplete' };
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(data.readUInt16BE(4 + i * 2).toString(16));
    host = new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
    addressType = 'ipv6';
    at = 20;
  } else {
    return { kind: 'invalid', why: `address type ${type}` };
  }
  return { kind: 'complete', length: at + 2, command, host, addressType, port: data.readUInt16BE(at) };
}

/** A reply with the given code and an all-zero IPv4 bound address (nothing was bound). */
export function socksReply(code: number): Buffer {
  return Buffer.from([SOCKS_VERSION, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
}
