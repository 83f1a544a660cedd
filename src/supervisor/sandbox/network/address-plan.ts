import { readFileSync } from 'node:fs';
import { PaddockError } from '../../../core/errors.ts';

// Every sandbox gets one /30 from the address pool: .1 is the supervisor's end of the veth
// (the only address the sandbox may reach), .2 the sandbox's. Slot 0 is never handed out, so
// its two addresses are known-dead targets for tests and attacks.
//
// Names carry the slot so the kernel is the allocator: interface names are unique per network
// namespace, so `ip link add pdkh<slot>` fails for a slot another supervisor process holds,
// and the loser simply tries the next slot. The namespace name also carries the owner's pid,
// so a later supervisor can tell a crashed run's leftovers from a live neighbour's.

/** Prefix of every name the plumbing creates: `pdk-<slot>-<pid>` namespaces, `pdkh<slot>` host veths. */
export const NETNS_PREFIX = 'pdk-';
export const HOST_INTERFACE_PREFIX = 'pdkh';
/** The sandbox's end of the veth, as the agent sees it. */
export const SANDBOX_INTERFACE = 'eth0';

/** Default pool: 16383 usable /30 slots in a private range this machine does not route. */
export const DEFAULT_ADDRESS_POOL = '10.231.0.0/16';

/** TCP ports the supervisor listens on at the host address; the only ports the sandbox may reach. */
export interface ProxyPorts {
  /** Explicit HTTP proxy (absolute-form requests and CONNECT): HTTP_PROXY / HTTPS_PROXY. */
  readonly httpProxy: number;
  /** Where TCP port 80 to any address is redirected. */
  readonly transparentHttp: number;
  /** Where TCP port 443 to any address is redirected. */
  readonly transparentHttps: number;
  /** SOCKS5 (ALL_PROXY=socks5h://…). */
  readonly socks: number;
}

/**
 * Defaults in an uncommon range: a host service on the same port bound to every address
 * (squid on 0.0.0.0:3128, a SOCKS daemon on 1080) would stop the listener from binding.
 */
export const DEFAULT_PROXY_PORTS: ProxyPorts = Object.freeze({
  httpProxy: 14128,
  transparentHttp: 14080,
  transparentHttps: 14443,
  socks: 14180,
});

/** The four ports in a fixed order, checked: integers 1..65535, all different. */
export function proxyPortList(ports: ProxyPorts): number[] {
  const list = [ports.httpProxy, ports.transparentHttp, ports.transparentHttps, ports.socks];
  if (
    !list.every((port) => Number.isInteger(port) && port >= 1 && port <= 65535) ||
    new Set(list).size !== 4
  ) {
    throw new RangeError(`proxy ports must be four different integers 1..65535, got ${list.join(', ')}`);
  }
  return list;
}

export interface AddressPool {
  readonly cidr: string;
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefixLength: number;
  /** Number of /30 slots, slot 0 included (it is reserved). */
  readonly slots: number;
}

export interface SlotPlan {
  readonly slot: number;
  readonly hostAddress: string;
  readonly sandboxAddress: string;
  /** Name under /run/netns. */
  readonly netnsName: string;
  readonly hostInterface: string;
}

const PRIVATE_RANGES: readonly [number, number][] = [
  [ipv4ToInt('10.0.0.0'), 8],
  [ipv4ToInt('172.16.0.0'), 12],
  [ipv4ToInt('192.168.0.0'), 16],
  [ipv4ToInt('100.64.0.0'), 10],
];

export function ipv4ToInt(address: string): number {
  const parts = address.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255)) {
    return Number.NaN;
  }
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

export function intToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

function contains(base: number, prefixLength: number, address: number): boolean {
  return (address & maskOf(prefixLength)) >>> 0 === base;
}

/**
 * Parses an address pool such as `10.231.0.0/16`. It must be a private IPv4 range (RFC 1918
 * or CGNAT), aligned, between /12 and /29 (at least one usable /30 besides the reserved slot 0).
 */
export function parseAddressPool(cidr: string): AddressPool {
  const match = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(cidr);
  const base = match ? ipv4ToInt(match[1]!) : Number.NaN;
  const prefixLength = match ? Number(match[2]) : Number.NaN;
  const invalid = (why: string) =>
    new PaddockError('PDK_NETWORK_ADDRESS_POOL', `sandbox address pool "${cidr}" ${why}`, {
      details: { cidr },
    });
  if (Number.isNaN(base) || !(prefixLength >= 12 && prefixLength <= 29)) {
    throw invalid('is not an IPv4 CIDR between /12 and /29');
  }
  if ((base & maskOf(prefixLength)) >>> 0 !== base) throw invalid('has host bits set');
  if (!PRIVATE_RANGES.some(([range, length]) => length <= prefixLength && contains(range, length, base))) {
    throw invalid('is not inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10');
  }
  return { cidr, base, prefixLength, slots: 2 ** (30 - prefixLength) };
}

/** Addresses and names of one slot. `ownerPid` is the supervisor process that creates it. */
export function planSlot(pool: AddressPool, slot: number, ownerPid: number): SlotPlan {
  if (!Number.isInteger(slot) || slot < 1 || slot >= pool.slots) {
    throw new RangeError(`slot ${slot} is outside 1..${pool.slots - 1} of ${pool.cidr}`);
  }
  const network = pool.base + slot * 4;
  return {
    slot,
    hostAddress: intToIpv4(network + 1),
    sandboxAddress: intToIpv4(network + 2),
    netnsName: `${NETNS_PREFIX}${slot}-${ownerPid}`,
    hostInterface: `${HOST_INTERFACE_PREFIX}${slot}`,
  };
}

/** Reads back `pdk-<slot>-<pid>`; undefined for any other name (never ours to touch). */
export function parseNetnsName(name: string): { slot: number; ownerPid: number } | undefined {
  const match = /^pdk-(\d{1,6})-(\d{1,10})$/.exec(name);
  return match ? { slot: Number(match[1]), ownerPid: Number(match[2]) } : undefined;
}

/** Reads back `pdkh<slot>`; undefined for any other interface name. */
export function parseHostInterfaceName(name: string): number | undefined {
  const match = /^pdkh(\d{1,6})$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * Host routes (main table, from /proc/net/route) that overlap the pool and are not ours.
 * A sandbox /30 inside a routed network would shadow part of it, so creation refuses.
 */
export function overlappingHostRoutes(pool: AddressPool, routeTable?: string): string[] {
  const text = routeTable ?? readFileSync('/proc/net/route', 'utf8');
  const overlaps: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (!iface || !destination || !mask || parseHostInterfaceName(iface) !== undefined) continue;
    // /proc/net/route prints addresses in host byte order (little-endian here) as hex.
    const dest = Buffer.from(destination, 'hex').readUInt32LE(0);
    const netmask = Buffer.from(mask, 'hex').readUInt32LE(0);
    if (netmask === 0) continue; // the default route overlaps everything by definition
    const length = Math.clz32(~netmask >>> 0); // leading one bits of the mask
    const shorter = Math.min(length, pool.prefixLength);
    if ((dest & maskOf(shorter)) >>> 0 === (pool.base & maskOf(shorter)) >>> 0) {
      overlaps.push(`${intToIpv4(dest)}/${length} dev ${iface}`);
    }
  }
  return overlaps;
}
