import { PaddockError } from '../../core/index.ts';
import { normalizeHost } from '../egress/host.ts';
import type { EgressAccess, EgressServiceSpec } from '../egress/types.ts';
import type { PolicyBlueprint } from './bundle-types.ts';
import type { GeneratedPolicy } from './cedar-text.ts';
import { anyOf, cedarString, cedarStringSet, cedarWildcardJoin } from './cedar-text.ts';

// spec.services (connect, http_request) and spec.writes (review gates on http_request).
//
// The same semantics as the egress gateway's own policy (egress/compile.ts, egress/decide.ts):
//   connect       a service lists the host (exact, "*.suffix" = exactly one more leading label,
//                 or an IP literal) and the port (default [443]);
//   http_request  the service the gateway picks for host:port (exact before wildcard, first
//                 declared first) is precomputed as `context.service`, then its access class
//                 (read-only, read-write, full = anything but CONNECT; none and no credential:
//                 uninspected, any method) and, when it has rules, one rule's methods and paths.
// A `writes` entry with `review: required` becomes a permit annotated @review("required"): a
// gate, which never allows on its own (pdp/outcome.ts); a request its service allows and the
// gate matches is decided `review`.

const ACCESS_METHODS: Record<Exclude<EgressAccess, 'full'>, readonly string[]> = {
  'read-only': ['GET', 'HEAD', 'OPTIONS'],
  'read-write': ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'],
};

/** The access class the gateway enforces: a credential alone means inspection with `full`. */
function effectiveAccess(service: EgressServiceSpec): EgressAccess | undefined {
  return service.access ?? (service.credential !== undefined && !service.rules ? 'full' : undefined);
}

function accessAdmits(access: EgressAccess | undefined, method: string): boolean {
  if (access === undefined) return true;
  if (access === 'full') return method !== 'CONNECT';
  return ACCESS_METHODS[access].includes(method);
}

function hostCondition(pattern: string, service: string): string {
  const wildcard = pattern.startsWith('*.');
  const normalized = normalizeHost(wildcard ? pattern.slice(2) : pattern);
  if (normalized.kind === 'invalid' || (wildcard && normalized.kind === 'ip')) {
    throw new PaddockError(
      'PDK_POLICY_INVALID',
      `services[${service}].hosts: "${pattern}" is not a host name, "*.name" or an IP literal`,
    );
  }
  if (!wildcard) return `context.host == ${cedarString(normalized.host)}`;
  const suffix = `.${normalized.host}`;
  return `(context.host like ${cedarWildcardJoin(['', suffix])} && !(context.host like ${cedarWildcardJoin(['', '.', suffix])}))`;
}

/** The L7 condition of a service for http_request (without the service test), or undefined for "any". */
function layer7Condition(service: EgressServiceSpec): string | undefined {
  const access = effectiveAccess(service);
  if (!service.rules) {
    if (access === undefined) return undefined;
    if (access === 'full') return `context.method != "CONNECT"`;
    return `${cedarStringSet(ACCESS_METHODS[access])}.contains(context.method)`;
  }
  const rules = service.rules.flatMap((rule) => {
    const condition = ruleCondition(rule.methods, rule.paths, access);
    return condition ? [condition] : [];
  });
  if (rules.length === 0) return 'false';
  return anyOf(rules.map((rule) => `(${rule})`));
}

function ruleCondition(
  methods: readonly string[],
  paths: readonly string[],
  access: EgressAccess | undefined,
): string | undefined {
  const admitted = [...new Set(methods)].filter((method) => accessAdmits(access, method));
  if (admitted.length === 0) return undefined;
  return `${cedarStringSet(admitted)}.contains(context.method) && context.pathMatches.containsAny(${cedarStringSet(new Set(paths))})`;
}

/** Refuses what would compile to a policy that silently never matches, or into the text. */
function checkService(service: EgressServiceSpec): void {
  const problems: string[] = [];
  for (const port of service.ports ?? [])
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      problems.push(`ports: ${port} is not a TCP port`);
  service.rules?.forEach((rule, index) => {
    for (const path of rule.paths)
      if (!path.startsWith('/')) problems.push(`rules[${index}].paths: "${path}" must start with "/"`);
  });
  if (problems.length > 0) {
    throw new PaddockError(
      'PDK_POLICY_INVALID',
      `services[${service.name}].${problems.join(`; services[${service.name}].`)}`,
    );
  }
}

/** Policies for `spec.services` and `spec.writes`; collects the path globs they test. */
export function compileNetwork(blueprint: PolicyBlueprint, pathGlobs: Set<string>): GeneratedPolicy[] {
  const policies: GeneratedPolicy[] = [];
  const services = blueprint.services ?? [];
  services.forEach((service, index) => {
    checkService(service);
    const field = `spec.services[${index}]`;
    const is = `context.service == ${cedarString(service.name)}`;
    const ports = service.ports && service.ports.length > 0 ? service.ports : [443];
    policies.push({
      id: `services[${service.name}].hosts`,
      effect: 'permit',
      actions: ['connect'],
      condition: `${anyOf(service.hosts.map((host) => hostCondition(host, service.name)))} && [${[...new Set(ports)].join(', ')}].contains(context.port)`,
      reason: 'host_allowed',
      field: `${field}.hosts`,
    });
    if (!service.rules) {
      const layer7 = layer7Condition(service);
      policies.push({
        id: `services[${service.name}].access`,
        effect: 'permit',
        actions: ['http_request'],
        condition: layer7 ? `${is} && ${layer7}` : is,
        reason: 'request_allowed',
        field: service.access ? `${field}.access` : `${field}.hosts`,
      });
      return;
    }
    const access = effectiveAccess(service);
    service.rules.forEach((rule, ruleIndex) => {
      for (const path of rule.paths) pathGlobs.add(path);
      const condition = ruleCondition(rule.methods, rule.paths, access);
      // A rule whose methods the access class refuses can never match (validate reports it).
      if (!condition) return;
      policies.push({
        id: `services[${service.name}].rules[${ruleIndex}]`,
        effect: 'permit',
        actions: ['http_request'],
        condition: `${is} && ${condition}`,
        reason: 'request_allowed',
        field: `${field}.rules[${ruleIndex}]`,
      });
    });
  });
  (blueprint.writes ?? []).forEach((write, index) => {
    if (write.review !== 'required') return;
    const service = services.find((candidate) => candidate.name === write.service);
    // A write on a service the blueprint does not list can never be sent (validate reports it).
    if (!service) return;
    for (const path of write.paths) {
      if (!path.startsWith('/'))
        throw new PaddockError('PDK_POLICY_INVALID', `writes[${index}].paths: "${path}" must start with "/"`);
      pathGlobs.add(path);
    }
    const parts = [
      `context.service == ${cedarString(service.name)}`,
      `${cedarStringSet(new Set(write.methods))}.contains(context.method)`,
      `context.pathMatches.containsAny(${cedarStringSet(new Set(write.paths))})`,
    ];
    policies.push({
      id: `writes[${index}].review`,
      effect: 'permit',
      actions: ['http_request'],
      condition: parts.join(' && '),
      reason: 'review_required',
      review: true,
      field: `spec.writes[${index}]`,
    });
  });
  return policies;
}
