// Splits what a client wrote as a destination (CONNECT target, URL authority, Host header) into
// host and port without normalizing the host: the gateway normalizes, and a parser that
// "helpfully" rewrote 0x7f.1 into 127.0.0.1 here would hide what the client actually asked for.

export interface HostPort {
  /** As written, brackets of an IPv6 literal removed; '' when absent. */
  readonly host: string;
  /** 1..65535; 0 when the port was present but not a valid number (the request is then refused). */
  readonly port: number;
}

function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text)) return 0;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : 0;
}

/**
 * @example splitHostPort('[::1]:8443', 443) // { host: '::1', port: 8443 }
 * @example splitHostPort('example.com', 80) // { host: 'example.com', port: 80 }
 */
export function splitHostPort(authority: string, defaultPort: number): HostPort {
  const text = authority.trim();
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { host: text, port: 0 };
    const rest = text.slice(close + 1);
    if (rest === '') return { host: text.slice(1, close), port: defaultPort };
    return { host: text.slice(1, close), port: rest.startsWith(':') ? parsePort(rest.slice(1)) : 0 };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { host: text, port: defaultPort };
  // Several colons without brackets: an IPv6 literal written bare, with no port.
  if (text.indexOf(':') !== colon) return { host: text, port: defaultPort };
  return { host: text.slice(0, colon), port: parsePort(text.slice(colon + 1)) };
}

/** Host and port of an absolute-form request target (`http://user@host:port/path`); undefined if not absolute. */
export function absoluteTarget(target: string): HostPort | undefined {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i.exec(target);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  const authority = match[2]!;
  const hostPart = authority.slice(authority.lastIndexOf('@') + 1);
  return splitHostPort(hostPart, scheme === 'https' || scheme === 'wss' ? 443 : 80);
}
