import { compileRedactPattern } from '../../config/schema/index.ts';
import type { BlueprintService, LoggingSpec } from '../../config/schema/index.ts';
import { PaddockError } from '../../core/index.ts';
import { compileEgressPolicy, type EgressPolicy, type EgressServiceSpec } from '../../policy/index.ts';
import type { EgressLogging } from './audit.ts';

// The seam between the blueprint (config) and the egress policy (pure, imports only core):
// blueprint services map field for field onto the policy's service specs.

/**
 * Compiles a blueprint's `spec.services` (after shared services are expanded, so every
 * entry has hosts) into the gateway's policy. Omitted or empty: deny everything.
 * Throws PDK_EGRESS_POLICY_INVALID listing each problem.
 *
 * @example const policy = compileBlueprintEgress(resolved.spec.services);
 */
export function compileBlueprintEgress(services: readonly BlueprintService[] | undefined): EgressPolicy {
  const specs: EgressServiceSpec[] = [];
  const unexpanded: string[] = [];
  for (const service of services ?? []) {
    if (!service.hosts) {
      unexpanded.push(`services[${service.name}].hosts: missing (expand shared services before compiling)`);
      continue;
    }
    specs.push({
      name: service.name,
      hosts: service.hosts,
      ...(service.ports ? { ports: service.ports } : {}),
      ...(service.access ? { access: service.access } : {}),
      ...(service.rules ? { rules: service.rules } : {}),
      ...(service.credential ? { credential: service.credential } : {}),
      ...(service.credentialHeader ? { credentialHeader: service.credentialHeader } : {}),
      ...(service.cidrs ? { cidrs: service.cidrs } : {}),
    });
  }
  if (unexpanded.length > 0) {
    throw new PaddockError(
      'PDK_EGRESS_POLICY_INVALID',
      `egress policy is invalid: ${unexpanded.join('; ')}`,
      { details: unexpanded },
    );
  }
  return compileEgressPolicy(specs);
}

/**
 * URL redaction for HTTP Activity events from the blueprint's `logging`: `toolArguments:
 * none` drops query strings, `full` keeps URLs as sent, `redacted` (default) applies the
 * `redact` patterns (which apply in every mode but `full`).
 */
export function egressLoggingFromBlueprint(logging: LoggingSpec | undefined): EgressLogging {
  const mode = logging?.toolArguments ?? 'redacted';
  return {
    urls: mode === 'none' ? 'none' : mode === 'full' ? 'full' : 'redacted',
    redact: (logging?.redact ?? []).map(compileRedactPattern),
  };
}
