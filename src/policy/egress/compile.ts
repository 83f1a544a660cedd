import type { BlockList } from 'node:net';
import { isIPv4, isIPv6 } from 'node:net';
import { PaddockError } from '../../core/index.ts';
import { cidrList } from './address.ts';
import { normalizeHost } from './host.ts';
import { type PathGlob, compilePathGlob } from './path-glob.ts';
import type { EgressAccess, EgressServiceSpec } from './types.ts';

// Turns service specs into the matcher form the decisions use. Validation here is a
// second line behind the config schema: the policy must not depend on every caller having
// validated, and some checks (over-broad CIDRs, header names) only make sense here.

export interface CompiledRule {
  readonly id: string;
  readonly methods: ReadonlySet<string>;
  readonly paths: readonly PathGlob[];
}

export interface CompiledService {
  readonly name: string;
  readonly exactHosts: ReadonlySet<string>;
  /** `.example.com` for the pattern `*.example.com`. */
  readonly wildcardSuffixes: readonly string[];
  /** Canonical IP literals this service lists. */
  readonly literals: ReadonlySet<string>;
  readonly ports: ReadonlySet<number>;
  /** Whether requests are inspected: access, rules or a credential is set. */
  readonly inspect: boolean;
  /** Effective access class; `full` when only a credential asked for inspection. */
  readonly access: EgressAccess | undefined;
  readonly rules: readonly CompiledRule[] | undefined;
  readonly credential: string | undefined;
  /** Lower-case header name carrying the credential (default `authorization`). */
  readonly credentialHeader: string;
  readonly cidrs: BlockList | undefined;
}

/** A compiled egress policy: services in declaration order. Immutable. */
export interface EgressPolicy {
  readonly services: readonly CompiledService[];
}

const METHOD = /^[A-Z]{1,20}$/;
const HEADER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
// Headers whose meaning is framing or routing: carrying a credential in them would let
// the substitution change how the request is delimited or where it goes.
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'proxy-connection',
  'expect',
  'proxy-authorization',
]);
/** Shortest CIDR prefix a service may open: wider ranges are almost surely a mistake. */
const MIN_PREFIX = { ipv4: 8, ipv6: 32 } as const;

/**
 * Compiles service specs. Throws PDK_EGRESS_POLICY_INVALID listing every problem as
 * `services[NAME].field: message`. An empty list compiles to a policy that denies everything.
 *
 * @example compileEgressPolicy([{ name: 'github', hosts: ['api.github.com'], ports: [443], access: 'read-only' }])
 */
export function compileEgressPolicy(specs: readonly EgressServiceSpec[]): EgressPolicy {
  const problems: string[] = [];
  const names = new Set<string>();
  const services = specs.map((spec) => {
    const where = `services[${spec.name}]`;
    if (names.has(spec.name)) problems.push(`${where}.name: duplicate service name`);
    names.add(spec.name);
    return compileService(spec, (field, message) => problems.push(`${where}.${field}: ${message}`));
  });
  if (problems.length > 0) {
    throw new PaddockError('PDK_EGRESS_POLICY_INVALID', `egress policy is invalid: ${problems.join('; ')}`, {
      details: problems,
    });
  }
  return Object.freeze({ services: Object.freeze(services) });
}

function compileService(
  spec: EgressServiceSpec,
  problem: (field: string, message: string) => void,
): CompiledService {
  const exactHosts = new Set<string>();
  const wildcardSuffixes: string[] = [];
  const literals = new Set<string>();
  if (spec.hosts.length === 0) problem('hosts', 'must list at least one host');
  for (const pattern of spec.hosts) {
    const wildcard = pattern.startsWith('*.');
    const normalized = normalizeHost(wildcard ? pattern.slice(2) : pattern);
    if (normalized.kind === 'ip' && !wildcard) literals.add(normalized.host);
    else if (
      normalized.kind === 'name' &&
      normalized.host === pattern.slice(wildcard ? 2 : 0) &&
      normalized.host.includes('.')
    ) {
      if (wildcard) wildcardSuffixes.push(`.${normalized.host}`);
      else exactHosts.add(normalized.host);
    } else
      problem(
        'hosts',
        `"${pattern}" must be a lower-case name with two or more labels, "*.name", or an IP literal`,
      );
  }
  const ports = new Set(spec.ports && spec.ports.length > 0 ? spec.ports : [443]);
  for (const port of ports)
    if (!Number.isInteger(port) || port < 1 || port > 65535) problem('ports', `${port} is not a TCP port`);

  const rules = spec.rules?.map((rule, index): CompiledRule => {
    for (const method of rule.methods)
      if (!METHOD.test(method)) problem(`rules[${index}].methods`, `"${method}" is not an upper-case method`);
    if (rule.methods.length === 0 || rule.paths.length === 0)
      problem(`rules[${index}]`, 'needs methods and paths');
    const paths = rule.paths.flatMap((path) => {
      try {
        return [compilePathGlob(path)];
      } catch (error) {
        problem(`rules[${index}].paths`, (error as Error).message);
        return [];
      }
    });
    return { id: `${spec.name}#rules[${index}]`, methods: new Set(rule.methods), paths };
  });

  const credentialHeader = (spec.credentialHeader ?? 'authorization').toLowerCase();
  if (!HEADER_NAME.test(credentialHeader) || RESERVED_HEADERS.has(credentialHeader)) {
    problem(
      'credentialHeader',
      `"${spec.credentialHeader}" cannot carry a credential (framing, routing or invalid header name)`,
    );
  }
  if (spec.credentialHeader !== undefined && spec.credential === undefined)
    problem('credentialHeader', 'is set without a credential');

  for (const cidr of spec.cidrs ?? []) {
    const reason = cidrProblem(cidr);
    if (reason) problem('cidrs', `"${cidr}" ${reason}`);
  }
  const validCidrs = (spec.cidrs ?? []).filter((cidr) => cidrProblem(cidr) === undefined);

  const inspect = spec.access !== undefined || spec.rules !== undefined || spec.credential !== undefined;
  return Object.freeze({
    name: spec.name,
    exactHosts,
    wildcardSuffixes,
    literals,
    ports,
    inspect,
    access: spec.access ?? (spec.credential !== undefined && spec.rules === undefined ? 'full' : undefined),
    rules,
    credential: spec.credential,
    credentialHeader,
    cidrs: validCidrs.length > 0 ? cidrList(validCidrs) : undefined,
  });
}

function cidrProblem(cidr: string): string | undefined {
  const [network = '', prefixText = '', extra] = cidr.split('/');
  if (extra !== undefined || !/^\d{1,3}$/.test(prefixText)) return 'must be NETWORK/PREFIX';
  const family = isIPv4(network) ? 'ipv4' : isIPv6(network) ? 'ipv6' : undefined;
  if (!family) return 'does not start with an IP address';
  const prefix = Number(prefixText);
  if (prefix > (family === 'ipv4' ? 32 : 128)) return 'has a prefix longer than the address';
  if (prefix < MIN_PREFIX[family])
    return `is wider than /${MIN_PREFIX[family]}: list the private ranges the service really uses`;
  return undefined;
}
