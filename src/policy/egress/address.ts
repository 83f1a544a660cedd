import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { ipv4At, ipv6Bytes } from './ip-bytes.ts';

// Address ranges the gateway never connects to, whatever name led there (DESIGN.md §5,
// invariant 2). Checked after resolution on every address. A service's `cidrs` can open a
// private range for itself, except the ranges marked `never` (metadata, unspecified,
// broadcast, multicast): no blueprint can reach those.

interface DeniedRange {
  readonly name: string;
  readonly never: boolean;
  readonly list: BlockList;
}

type RangeRow = readonly [cidr: string, name: string, never?: 'never'];

// Order matters: the first match names the range, so specific entries come first.
const IPV4_ROWS: readonly RangeRow[] = [
  ['169.254.169.254/32', 'metadata', 'never'],
  ['255.255.255.255/32', 'broadcast', 'never'],
  ['0.0.0.0/8', 'this-network', 'never'],
  ['224.0.0.0/4', 'multicast', 'never'],
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['100.64.0.0/10', 'cgnat'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['192.0.0.0/24', 'ietf-protocol'],
  ['192.0.2.0/24', 'documentation'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['192.88.99.0/24', '6to4-relay'],
  ['198.18.0.0/15', 'benchmarking'],
  ['240.0.0.0/4', 'reserved'],
];

const IPV6_ROWS: readonly RangeRow[] = [
  ['fd00:ec2::254/128', 'metadata', 'never'],
  ['::/128', 'unspecified', 'never'],
  ['ff00::/8', 'multicast', 'never'],
  ['::1/128', 'loopback'],
  ['::/96', 'ipv4-compatible'],
  ['64:ff9b:1::/48', 'nat64-local'],
  ['100::/64', 'discard'],
  ['2001:2::/48', 'benchmarking'],
  ['2001:10::/28', 'orchid'],
  ['2001:20::/28', 'orchid'],
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['fc00::/7', 'unique-local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
];

function buildRanges(rows: readonly RangeRow[], family: 'ipv4' | 'ipv6'): DeniedRange[] {
  return rows.map(([cidr, name, never]) => {
    const [network, prefix] = cidr.split('/') as [string, string];
    const list = new BlockList();
    list.addSubnet(network, Number(prefix), family);
    return { name, never: never === 'never', list };
  });
}

const IPV4_RANGES = buildRanges(IPV4_ROWS, 'ipv4');
const IPV6_RANGES = buildRanges(IPV6_ROWS, 'ipv6');

/** Why an address is denied: the range's name, and whether a service's cidrs may open it. */
export interface DeniedAddress {
  readonly range: string;
  readonly never: boolean;
}

/**
 * Classifies one resolved address. Returns undefined for a public address, otherwise the
 * denied range. IPv6 forms that embed IPv4 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4
 * 2002::/16, Teredo 2001::/32) are judged by the IPv4 address they carry. Anything that is
 * not an IP address at all is denied as `invalid`.
 *
 * @example classifyAddress('::ffff:127.0.0.1') // { range: 'ipv4-mapped/loopback', never: false }
 */
export function classifyAddress(address: string): DeniedAddress | undefined {
  if (isIPv4(address)) return firstMatch(IPV4_RANGES, address, 'ipv4');
  if (!isIPv6(address)) return { range: 'invalid', never: true };
  const bytes = ipv6Bytes(address);
  if (!bytes) return { range: 'invalid', never: true };
  const embedded = embeddedIPv4(bytes);
  for (const [label, inner] of embedded) {
    const verdict = firstMatch(IPV4_RANGES, inner, 'ipv4');
    if (verdict) return { range: `${label}/${verdict.range}`, never: verdict.never };
  }
  if (embedded.length > 0) return undefined; // the IPv4 it carries is public
  return firstMatch(IPV6_RANGES, address, 'ipv6');
}

function firstMatch(ranges: readonly DeniedRange[], address: string, family: 'ipv4' | 'ipv6') {
  for (const range of ranges) {
    if (range.list.check(address, family)) return { range: range.name, never: range.never };
  }
  return undefined;
}

/** The IPv4 addresses an IPv6 address carries, labelled by the mechanism that carries them. */
function embeddedIPv4(bytes: Uint8Array): Array<[string, string]> {
  const prefixIs = (values: readonly number[]) => values.every((value, index) => bytes[index] === value);
  const zeros = (count: number) => new Array<number>(count).fill(0);
  if (prefixIs([...zeros(10), 0xff, 0xff])) return [['ipv4-mapped', ipv4At(bytes, 12)]];
  if (prefixIs([0x00, 0x64, 0xff, 0x9b, ...zeros(8)])) return [['nat64', ipv4At(bytes, 12)]];
  if (prefixIs([0x20, 0x02])) return [['6to4', ipv4At(bytes, 2)]];
  if (prefixIs([0x20, 0x01, 0x00, 0x00])) {
    // Teredo: server address in plain form, client address bit-inverted in the last 32 bits.
    return [
      ['teredo', ipv4At(bytes, 4)],
      ['teredo', ipv4At(bytes, 12, 0xff)],
    ];
  }
  return [];
}

/** A set of CIDRs (a service's private-range exceptions). */
export function cidrList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network, prefix] = cidr.split('/') as [string, string];
    list.addSubnet(network, Number(prefix), isIPv4(network) ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** Whether `address` lies in `list` (family taken from the address). */
export function inCidrList(list: BlockList, address: string): boolean {
  return list.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
}
