import { lookup } from 'node:dns/promises';

// Names resolve at the gateway, once per connection: the addresses the policy checks are
// the addresses the gateway connects to (no second lookup, so DNS rebinding between check
// and connect is impossible). The sandbox has no resolver of its own.

/**
 * Resolves a normalized host name (lower-case A-labels, no trailing dot) to IP addresses.
 * Rejects, or resolves to an empty list, when the name does not resolve. Every answer is
 * checked: one that is not an IP address denies the connection. Injectable so tests control
 * every answer.
 */
export type Resolver = (hostname: string) => Promise<readonly string[]>;

/**
 * The default resolver: the system's getaddrinfo (dns.lookup) with every address, in the
 * order the system prefers. The name is made absolute (trailing dot) so resolv.conf search
 * domains can never turn `api.github.com` into `api.github.com.corp.internal`.
 */
export const systemResolver: Resolver = async (hostname) => {
  const answers = await lookup(`${hostname}.`, { all: true, order: 'verbatim' });
  return answers.map((answer) => answer.address);
};

/**
 * A resolver answering from a fixed table, for tests and for air-gapped deployments.
 * Unknown names do not resolve.
 *
 * @example staticResolver({ 'api.example.test': ['127.0.0.1'] })
 */
export function staticResolver(table: Readonly<Record<string, readonly string[]>>): Resolver {
  const copy = new Map(Object.entries(table).map(([name, addresses]) => [name, [...addresses]]));
  return async (hostname) => {
    const addresses = copy.get(hostname);
    if (!addresses) throw new Error(`${hostname} does not resolve`);
    return addresses;
  };
}
