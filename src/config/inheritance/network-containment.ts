// Containment of the network scope a service grants: host patterns and CIDR
// ranges. As everywhere in inheritance, "not contained" is the answer when in doubt.

const IPV4_LITERAL = /^\d{1,3}(\.\d{1,3}){3}$/u;

/**
 * Whether the host pattern `outer` matches every host `inner` does.
 * A wildcard matches exactly one leading label, so "a.example.com" is covered
 * by "*.example.com", but "*.example.com" is not covered by "api.example.com"
 * and "a.b.example.com" is not covered by "*.example.com". IP literals are only
 * covered by themselves, even when they happen to look like a DNS suffix.
 */
export function hostPatternContains(outer: string, inner: string): boolean {
  if (outer === inner) return true;
  if (
    !outer.startsWith('*.') ||
    inner.startsWith('*.') ||
    IPV4_LITERAL.test(inner) ||
    inner.startsWith('[')
  ) {
    return false;
  }
  const suffix = outer.slice(1); // ".example.com"
  if (!inner.endsWith(suffix)) return false;
  const label = inner.slice(0, -suffix.length);
  return label.length > 0 && !label.includes('.') && !label.includes('*');
}

interface CidrRange {
  readonly bits: 32 | 128;
  readonly network: bigint;
  readonly prefix: number;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/u.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  // An embedded IPv4 address (::ffff:10.0.0.1) is rewritten as its two hex groups.
  const lastColon = text.lastIndexOf(':');
  const embedded = text.slice(lastColon + 1);
  if (embedded.includes('.')) {
    const v4 = parseIpv4(embedded);
    if (v4 === undefined) return undefined;
    return parseIpv6(
      `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`,
    );
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (half: string | undefined): bigint[] | undefined => {
    if (!half) return [];
    const out: bigint[] = [];
    for (const group of half.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/u.test(group)) return undefined;
      out.push(BigInt(`0x${group}`));
    }
    return out;
  };
  const head = parseGroups(halves[0]);
  const tail = parseGroups(halves[1]);
  if (!head || !tail) return undefined;
  const given = head.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  const groups = [...head, ...new Array<bigint>(8 - given).fill(0n), ...tail];
  return groups.reduce((value, group) => (value << 16n) | group, 0n);
}

/** Parses "10.0.0.0/8" or "fd00::/8"; undefined when malformed (callers treat that as not contained). */
export function parseCidr(text: string): CidrRange | undefined {
  const slash = text.indexOf('/');
  if (slash === -1 || !/^\d{1,3}$/u.test(text.slice(slash + 1))) return undefined;
  const address = text.slice(0, slash);
  const prefix = Number(text.slice(slash + 1));
  const bits = address.includes(':') ? 128 : 32;
  const value = bits === 32 ? parseIpv4(address) : parseIpv6(address);
  if (value === undefined || prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  return { bits, network: (value >> hostBits) << hostBits, prefix };
}

/** Whether the CIDR range `outer` includes every address of `inner` (same family only). */
export function cidrContains(outer: string, inner: string): boolean {
  if (outer === inner) return true;
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  if (!o || !i || o.bits !== i.bits || i.prefix < o.prefix) return false;
  const shift = BigInt(o.bits - o.prefix);
  return i.network >> shift === o.network >> shift;
}
