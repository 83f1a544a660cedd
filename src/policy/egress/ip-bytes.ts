import { isIPv4, isIPv6 } from 'node:net';

// Byte-level views of IP addresses, for the checks BlockList cannot express: IPv4
// addresses embedded inside IPv6 ones (mapped, NAT64, 6to4, Teredo).

/** The 4 bytes of a dotted-quad IPv4 address, or undefined. */
export function ipv4Bytes(address: string): Uint8Array | undefined {
  if (!isIPv4(address)) return undefined;
  return Uint8Array.from(address.split('.').map(Number));
}

/** The 16 bytes of an IPv6 address (with or without an embedded dotted quad), or undefined. */
export function ipv6Bytes(address: string): Uint8Array | undefined {
  if (!isIPv6(address) || address.includes('%')) return undefined;
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const v4 = ipv4Bytes(text.slice(lastColon + 1));
  if (v4) {
    // Rewrite a trailing dotted quad as two hex groups, then parse one form.
    const hex = (high: number, low: number) => ((high << 8) | low).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hex(v4[0]!, v4[1]!)}:${hex(v4[2]!, v4[3]!)}`;
  }
  const halves = text.split('::');
  const parse = (part: string) =>
    part.length === 0 ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const left = parse(halves[0]!);
  const right = halves.length > 1 ? parse(halves[1]!) : [];
  const missing = halves.length > 1 ? 8 - left.length - right.length : 0;
  const groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  if (groups.length !== 8 || groups.some((group) => !(group >= 0 && group <= 0xffff))) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

/** Dotted-quad text of 4 bytes at `offset`, optionally XOR-ed (Teredo obfuscates the client address). */
export function ipv4At(bytes: Uint8Array, offset: number, xor = 0): string {
  return [0, 1, 2, 3].map((index) => (bytes[offset + index]! ^ xor) & 0xff).join('.');
}
