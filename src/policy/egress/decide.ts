import { classifyAddress, inCidrList } from './address.ts';
import type { CompiledService, EgressPolicy } from './compile.ts';
import { hostMatchesPattern, normalizeHost } from './host.ts';
import { ambiguousPath, pathMatches } from './path-glob.ts';
import type { EgressAccess, EgressConnectAllow, EgressDecision } from './types.ts';

// The three decisions of a connection: may it go to this host and port (connect), may it
// go to what the name resolved to (address), may this request go (request). Each is a
// pure function of the policy and its input; the gateway calls them in that order.

const DEFAULT_DENY = 'default-deny';

const ACCESS_METHODS: Record<Exclude<EgressAccess, 'full'>, ReadonlySet<string>> = {
  'read-only': new Set(['GET', 'HEAD', 'OPTIONS']),
  'read-write': new Set(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE']),
};

/** Whether an access class admits a method. `full` admits every method but CONNECT (no tunnels inside inspection). */
export function accessAllows(access: EgressAccess, method: string): boolean {
  if (access === 'full') return method !== 'CONNECT';
  return ACCESS_METHODS[access].has(method);
}

/**
 * Connect stage: which service, if any, allows `host:port`. Exact host patterns win over
 * wildcards; among equals, the first declared service wins. IP literals match only a
 * service that lists the same literal.
 *
 * @example decideConnect(policy, 'API.GitHub.com.', 443) // { allow: true, service: 'github', host: 'api.github.com', ... }
 */
export function decideConnect(
  policy: EgressPolicy,
  host: string,
  port: number,
): EgressDecision | EgressConnectAllow {
  const normalized = normalizeHost(host);
  if (normalized.kind === 'invalid') return deny('connect', normalized.reason, undefined, `"${host}"`);
  const literal = normalized.kind === 'ip';
  const matches = (service: CompiledService, exact: boolean) =>
    literal
      ? exact && service.literals.has(normalized.host)
      : exact
        ? service.exactHosts.has(normalized.host)
        : service.wildcardSuffixes.some((suffix) => hostMatchesPattern(normalized.host, `*${suffix}`));
  const candidates = [
    ...policy.services.filter((service) => matches(service, true)),
    ...policy.services.filter((service) => matches(service, false)),
  ];
  const chosen = candidates.find((service) => service.ports.has(port));
  if (!chosen) {
    const first = candidates[0];
    if (first) {
      return deny(
        'connect',
        'port_not_allowed',
        first.name,
        `port ${port} is not in ${first.name}'s ports [${[...first.ports].join(', ')}]`,
      );
    }
    return deny(
      'connect',
      literal ? 'ip_literal_not_allowed' : 'no_matching_service',
      undefined,
      normalized.host,
    );
  }
  return {
    allow: true,
    stage: 'connect',
    reason: 'host_allowed',
    service: chosen.name,
    rule: `${chosen.name}#hosts`,
    host: normalized.host,
    literal,
    inspect: chosen.inspect,
  };
}

/**
 * Address stage: every address the host resolved to must be public, or inside the
 * service's `cidrs` (never for metadata, unspecified, broadcast or multicast). One denied
 * address denies the whole set: a name that mixes public and private answers is a
 * rebinding attempt, not a fallback list.
 */
export function decideAddresses(service: CompiledService, addresses: readonly string[]): EgressDecision {
  if (addresses.length === 0) return deny('address', 'resolve_failed', service.name, 'no addresses');
  let excepted = false;
  for (const address of addresses) {
    const denied = classifyAddress(address);
    if (!denied) continue;
    if (!denied.never && service.cidrs && inCidrList(service.cidrs, address)) {
      excepted = true;
      continue;
    }
    return deny(
      'address',
      'address_denied',
      service.name,
      `${address} is in a denied range (${denied.range})`,
    );
  }
  return {
    allow: true,
    stage: 'address',
    reason: 'address_allowed',
    service: service.name,
    rule: excepted ? `${service.name}#cidrs` : `${service.name}#hosts`,
  };
}

/** A request-stage decision; a denial says what rule would have allowed the request. */
export interface EgressRequestDecision extends EgressDecision {
  readonly missingRule?: string;
}

/**
 * Request stage (inspected services only): method and path against the service's access
 * class and rules. With both, both must allow. `path` is the request path without query.
 *
 * @example decideRequest(github, 'DELETE', '/repos/a/b') // { allow: false, reason: 'method_not_allowed', missingRule: ... }
 */
export function decideRequest(service: CompiledService, method: string, path: string): EgressRequestDecision {
  const ambiguous = ambiguousPath(path);
  if (ambiguous) return deny('request', 'path_ambiguous', service.name, ambiguous);
  const suggestion = `add { methods: [${method}], paths: ["${path}"] } to services[${service.name}].rules`;
  if (service.access && !accessAllows(service.access, method)) {
    const wider =
      method === 'CONNECT' ? undefined : accessAllows('read-write', method) ? 'read-write' : 'full';
    return {
      ...deny('request', 'method_not_allowed', service.name, `${method} is outside access ${service.access}`),
      missingRule: wider
        ? `set services[${service.name}].access to ${wider}${service.rules ? ` and ${suggestion}` : ''}`
        : 'CONNECT is never allowed inside an inspected connection',
    };
  }
  if (!service.rules) {
    return {
      allow: true,
      stage: 'request',
      reason: 'access_allowed',
      service: service.name,
      rule: `${service.name}#access:${service.access}`,
    };
  }
  let pathMatched = false;
  for (const rule of service.rules) {
    if (!rule.paths.some((glob) => pathMatches(glob, path))) continue;
    if (rule.methods.has(method))
      return { allow: true, stage: 'request', reason: 'rule_matched', service: service.name, rule: rule.id };
    pathMatched = true;
  }
  const reason = pathMatched ? 'method_not_allowed' : 'path_not_allowed';
  return {
    ...deny('request', reason, service.name, `${method} ${path} matches no rule`),
    missingRule: suggestion,
  };
}

function deny(
  stage: EgressDecision['stage'],
  reason: EgressDecision['reason'],
  service: string | undefined,
  detail: string,
): EgressDecision {
  return {
    allow: false,
    stage,
    reason,
    rule: service
      ? `${service}#${stage === 'address' ? 'cidrs' : stage === 'request' ? 'rules' : 'ports'}`
      : DEFAULT_DENY,
    ...(service ? { service } : {}),
    detail,
  };
}

/** The compiled service of that name, if the policy has one. */
export function findService(policy: EgressPolicy, name: string): CompiledService | undefined {
  return policy.services.find((service) => service.name === name);
}
