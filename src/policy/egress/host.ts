import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';

// Host normalization. The name the policy checks is the very name the gateway resolves,
// so normalizing here cannot open a gap between check and use. What is ambiguous is
// refused rather than normalized: IPv4 in any form but dotted-quad decimal (0x7f.1,
// 2130706433, 017700000001, 127.1) is read differently by inet_aton, URL parsers and
// upstream servers, so it never matches anything.

export type NormalizedHost =
  | { readonly kind: 'name'; readonly host: string }
  | { readonly kind: 'ip'; readonly host: string; readonly family: 4 | 6 }
  | { readonly kind: 'invalid'; readonly reason: 'invalid_host' | 'ip_literal_noncanonical' };

const CANONICAL_IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const MAX_NAME = 253;

/**
 * Normalizes a destination host: lower case, one trailing dot removed, U-labels mapped to
 * A-labels (UTS #46), IPv6 canonicalized (`[::FFFF:7f00:1]` → `::ffff:7f00:1`, brackets
 * optional). Returns `invalid` for anything else, including zone ids and numeric IPv4 forms.
 */
export function normalizeHost(input: string): NormalizedHost {
  if (input.length === 0 || input.length > 2 * MAX_NAME) return { kind: 'invalid', reason: 'invalid_host' };
  const bracketed = input.startsWith('[') && input.endsWith(']');
  const bare = bracketed ? input.slice(1, -1) : input;
  if (bracketed || bare.includes(':')) {
    if (!isIPv6(bare) || bare.includes('%')) return { kind: 'invalid', reason: 'invalid_host' };
    return { kind: 'ip', host: canonicalIPv6(bare), family: 6 };
  }
  if (CANONICAL_IPV4.test(bare)) return { kind: 'ip', host: bare, family: 4 };
  const withoutDot = bare.endsWith('.') ? bare.slice(0, -1) : bare;
  if (looksNumeric(withoutDot)) return { kind: 'invalid', reason: 'ip_literal_noncanonical' };
  const ascii = toALabels(withoutDot);
  if (ascii === undefined) return { kind: 'invalid', reason: 'invalid_host' };
  // What a URL parser reads as IPv4 (a last label "0x10") or rejects (a numeric last label
  // that is no IPv4 address, bad punycode) is refused too.
  const parsed = domainToASCII(ascii);
  if (isIPv4(parsed)) return { kind: 'invalid', reason: 'ip_literal_noncanonical' };
  if (parsed !== ascii) return { kind: 'invalid', reason: 'invalid_host' };
  if (ascii.length === 0 || ascii.length > MAX_NAME) return { kind: 'invalid', reason: 'invalid_host' };
  const labels = ascii.split('.');
  if (!labels.every((label) => LABEL.test(label))) return { kind: 'invalid', reason: 'invalid_host' };
  return { kind: 'name', host: ascii };
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * Lower-case A-labels, or undefined. ASCII labels must be letters, digits and "-" (no
 * URL parsing: domainToASCII would cut "a/b.com" to "a"). A label with non-ASCII letters
 * is converted only if it converts back to itself: UTS #46 maps look-alikes such as the
 * full-width solidus to "/", which would let one name pass for another.
 */
function toALabels(name: string): string | undefined {
  const out: string[] = [];
  for (const label of name.split('.')) {
    if (ASCII.test(label)) {
      if (!/^[A-Za-z0-9-]+$/.test(label)) return undefined;
      out.push(label.toLowerCase());
      continue;
    }
    const converted = domainToASCII(label);
    const expected = label.normalize('NFC').toLowerCase();
    if (!converted.startsWith('xn--') || converted.includes('.') || domainToUnicode(converted) !== expected)
      return undefined;
    out.push(converted);
  }
  return out.join('.');
}

/** True for a dotted run of decimal, octal or hex numbers (e.g. 0x7f.0.0.1, 08.1.1.1): an IPv4 attempt. */
function looksNumeric(host: string): boolean {
  return /^(0x[0-9a-f]*|\d+)(\.(0x[0-9a-f]*|\d+))*$/i.test(host);
}

/** The compressed lower-case form of an IPv6 address, as the URL standard serializes it. */
export function canonicalIPv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/**
 * Whether a normalized name matches a host pattern: exact, or `*.suffix` matching exactly
 * one extra leading label (`*.example.com` matches `a.example.com`, not `example.com` nor
 * `a.b.example.com`).
 */
export function hostMatchesPattern(host: string, pattern: string): boolean {
  if (!pattern.startsWith('*.')) return host === pattern;
  const suffix = pattern.slice(1); // ".example.com"
  if (!host.endsWith(suffix)) return false;
  const label = host.slice(0, host.length - suffix.length);
  return label.length > 0 && !label.includes('.');
}

/**
 * Splits an authority (`host:port`, `[v6]:port`) as it appears in a CONNECT target, a Host
 * header or a SOCKS request. The port is required unless `defaultPort` is given. Returns
 * undefined for anything malformed (empty port, port 0, leading zeros, userinfo).
 */
export function splitAuthority(
  authority: string,
  defaultPort?: number,
): { host: string; port: number } | undefined {
  if (authority.length === 0 || authority.includes('@')) return undefined;
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return undefined;
    host = authority.slice(0, close + 1);
    const rest = authority.slice(close + 1);
    if (rest.length > 0 && !rest.startsWith(':')) return undefined;
    portText = rest.length > 0 ? rest.slice(1) : undefined;
  } else {
    const colon = authority.indexOf(':');
    if (colon >= 0 && authority.indexOf(':', colon + 1) >= 0) return undefined; // bare IPv6 is ambiguous
    host = colon < 0 ? authority : authority.slice(0, colon);
    portText = colon < 0 ? undefined : authority.slice(colon + 1);
  }
  if (host.length === 0) return undefined;
  if (portText === undefined) return defaultPort === undefined ? undefined : { host, port: defaultPort };
  if (!/^[1-9]\d{0,4}$/.test(portText)) return undefined;
  const port = Number(portText);
  return port <= 65535 ? { host, port } : undefined;
}

/**
 * Whether two hosts name the same destination once normalized (case, trailing dot,
 * IDN, IPv6 spelling). Invalid hosts agree only with the same text. Used to hold the CONNECT target, the
 * Host header and the TLS server name to one another (no domain fronting).
 */
export function hostsAgree(a: string, b: string): boolean {
  // The same text names the same destination, valid or not; the connect decision then
  // refuses an invalid one with its own reason.
  if (a.toLowerCase() === b.toLowerCase()) return true;
  const left = normalizeHost(a);
  const right = normalizeHost(b);
  return left.kind !== 'invalid' && right.kind !== 'invalid' && left.host === right.host;
}
