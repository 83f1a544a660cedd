import type { ResolvedBlueprint } from '../../config/index.ts';
import { type CompiledService, compileEgressPolicy, type EgressServiceSpec } from '../../policy/index.ts';

// The hub firewall's allowlist, generated from every blueprint's services. The in-VM egress
// gateway stays the precise enforcer (methods, paths, credentials); the firewall is the second,
// network-level boundary: only these names and ports leave the spoke, whatever runs in the VM.
// A host appears in exactly one rule, so two blueprints naming the same service (or the same
// host under different services) yield one rule, inspected when any of them needs L7.

/** One allowed destination host, merged over every blueprint that names it. */
export interface FirewallHost {
  /** `api.github.com` or `*.example.com` (Azure Firewall's wildcard form). */
  readonly fqdn: string;
  readonly ports: readonly number[];
  /** TLS inspection: some blueprint gives the host L7 rules, an access level or a credential. */
  readonly inspect: boolean;
  /** The service the rule is named after (the first, by name, that lists the host). */
  readonly service: string;
}

export interface IpLiteralHost {
  readonly address: string;
  readonly ports: readonly number[];
  readonly service: string;
}

export interface FirewallAllowlist {
  readonly hosts: readonly FirewallHost[];
  readonly ipLiterals: readonly IpLiteralHost[];
}

/** Blueprint services in the egress compiler's vocabulary (the same checks as the in-VM gateway). */
function egressSpecs(resolved: ResolvedBlueprint): EgressServiceSpec[] {
  return (resolved.blueprint.spec.services ?? []).map((service) => ({
    name: service.name,
    hosts: service.hosts ?? [],
    ...(service.ports ? { ports: service.ports } : {}),
    ...(service.access ? { access: service.access } : {}),
    ...(service.rules ? { rules: service.rules } : {}),
    ...(service.credential ? { credential: service.credential } : {}),
    ...(service.cidrs ? { cidrs: service.cidrs } : {}),
  }));
}

/** Merges every blueprint's services into one host list, sorted (deterministic output). */
export function firewallAllowlist(blueprints: readonly ResolvedBlueprint[]): FirewallAllowlist {
  const names = new Map<string, { ports: Set<number>; inspect: boolean; service: string }>();
  const literals = new Map<string, { ports: Set<number>; service: string }>();
  const services: CompiledService[] = blueprints.flatMap(
    (resolved) => compileEgressPolicy(egressSpecs(resolved)).services as CompiledService[],
  );
  services.sort((a, b) => a.name.localeCompare(b.name));
  for (const service of services) {
    const fqdns = [...service.exactHosts, ...service.wildcardSuffixes.map((suffix) => `*${suffix}`)];
    for (const fqdn of fqdns) {
      const entry = names.get(fqdn) ?? { ports: new Set<number>(), inspect: false, service: service.name };
      for (const port of service.ports) entry.ports.add(port);
      entry.inspect ||= service.inspect;
      names.set(fqdn, entry);
    }
    for (const address of service.literals) {
      const entry = literals.get(address) ?? { ports: new Set<number>(), service: service.name };
      for (const port of service.ports) entry.ports.add(port);
      literals.set(address, entry);
    }
  }
  const byKey = <T>(map: Map<string, T>) => [...map].sort(([a], [b]) => a.localeCompare(b));
  return {
    hosts: byKey(names).map(([fqdn, entry]) => ({
      fqdn,
      ports: [...entry.ports].sort((a, b) => a - b),
      inspect: entry.inspect,
      service: entry.service,
    })),
    ipLiterals: byKey(literals).map(([address, entry]) => ({
      address: address.replace(/^\[|\]$/g, ''),
      ports: [...entry.ports].sort((a, b) => a - b),
      service: entry.service,
    })),
  };
}

/** Names of the rule collections the hub policy holds (checks.ts relies on them). */
export const RULE_COLLECTIONS = {
  inspected: 'paddock-services-inspected',
  passthrough: 'paddock-services',
  ipLiterals: 'paddock-services-ip',
  control: 'paddock-control-plane',
} as const;

interface AppRule {
  readonly ruleType: 'ApplicationRule';
  readonly name: string;
  readonly protocols: readonly { protocolType: 'Http' | 'Https'; port: number }[];
  readonly targetFqdns: readonly string[];
  readonly sourceAddresses: readonly string[];
  readonly terminateTLS: boolean;
}

function appRules(hosts: readonly FirewallHost[], sources: readonly string[], inspect: boolean): AppRule[] {
  // One rule per service and port set keeps rules readable in the portal and in firewall logs.
  const groups = new Map<string, FirewallHost[]>();
  for (const host of hosts) {
    const key = `${host.service}|${host.ports.join(',')}`;
    groups.set(key, [...(groups.get(key) ?? []), host]);
  }
  return [...groups].map(([key, members]) => {
    const ports = members[0]?.ports ?? [443];
    return {
      ruleType: 'ApplicationRule',
      name: key.replace('|', '-').replaceAll(',', '-'),
      protocols: ports.map((port) => ({ protocolType: port === 80 && !inspect ? 'Http' : 'Https', port })),
      targetFqdns: members.map((host) => host.fqdn),
      sourceAddresses: sources,
      terminateTLS: inspect,
    };
  });
}

/**
 * The rule collections of the hub policy's `paddock` rule collection group: inspected services,
 * passthrough services, IP-literal services (network rules), and the control plane's channel
 * (never inspected: the channel authenticates both ends itself).
 */
export function ruleCollections(
  allowlist: FirewallAllowlist,
  sources: readonly string[],
  channelHost: string,
): Record<string, unknown>[] {
  const inspected = allowlist.hosts.filter((host) => host.inspect);
  const passthrough = allowlist.hosts.filter((host) => !host.inspect);
  const collections: Record<string, unknown>[] = [
    {
      ruleCollectionType: 'FirewallPolicyFilterRuleCollection',
      name: RULE_COLLECTIONS.control,
      priority: 100,
      action: { type: 'Allow' },
      rules: [
        {
          ruleType: 'ApplicationRule',
          name: 'channel',
          protocols: [{ protocolType: 'Https', port: 443 }],
          targetFqdns: [channelHost],
          sourceAddresses: sources,
          terminateTLS: false,
        },
      ],
    },
  ];
  if (inspected.length > 0)
    collections.push({
      ruleCollectionType: 'FirewallPolicyFilterRuleCollection',
      name: RULE_COLLECTIONS.inspected,
      priority: 200,
      action: { type: 'Allow' },
      rules: appRules(inspected, sources, true),
    });
  if (passthrough.length > 0)
    collections.push({
      ruleCollectionType: 'FirewallPolicyFilterRuleCollection',
      name: RULE_COLLECTIONS.passthrough,
      priority: 300,
      action: { type: 'Allow' },
      rules: appRules(passthrough, sources, false),
    });
  if (allowlist.ipLiterals.length > 0)
    collections.push({
      ruleCollectionType: 'FirewallPolicyFilterRuleCollection',
      name: RULE_COLLECTIONS.ipLiterals,
      priority: 400,
      action: { type: 'Allow' },
      rules: allowlist.ipLiterals.map((literal) => ({
        ruleType: 'NetworkRule',
        name: `${literal.service}-${literal.address.replaceAll(/[.:]/g, '-')}`,
        ipProtocols: ['TCP'],
        sourceAddresses: sources,
        destinationAddresses: [literal.address],
        destinationPorts: literal.ports.map(String),
      })),
    });
  return collections;
}
