import type { EgressServiceSpec } from '../egress/types.ts';
import { POLICY_PROTECTED_PATHS } from '../bundle/protected-paths.ts';
import type { PolicyBlueprint, PolicyBundleInput } from './bundle-types.ts';

// The one mapping from an effective blueprint (config's Blueprint document) to the compiler's
// input, used by standalone runs, workspace supervisors and release compilation alike. The
// document type is structural, so this layer stays free of config.

/** A blueprint service as the document holds it: `hosts` may be absent on a name-only entry. */
export type BlueprintServiceDocument = Omit<EgressServiceSpec, 'hosts'> & {
  readonly hosts?: readonly string[];
};

/** What the mapping reads of an effective blueprint. */
export interface BlueprintDocument {
  readonly metadata: { readonly name: string; readonly version: string };
  readonly spec: {
    readonly tools?: {
      readonly commands?: PolicyBlueprint['commands'];
      readonly mcp?: PolicyBlueprint['mcp'];
    };
    readonly services?: readonly BlueprintServiceDocument[];
    readonly dataScope?: PolicyBlueprint['dataScope'];
    readonly writes?: PolicyBlueprint['writes'];
  };
}

/**
 * The compiler's input for an effective blueprint and the repository's `policies/*.cedar`
 * (file → text). Services keep what the egress gateway needs too (a released bundle is also
 * the gateway's allowlist); the Cedar compiler ignores those fields.
 * @example compilePolicyBundle(policyInputOf(resolveBlueprint(state, 'code-review').blueprint, state.policies))
 */
export function policyInputOf(
  blueprint: BlueprintDocument,
  policies: Iterable<readonly [string, string]> = [],
  bundle?: { id?: string; version?: string },
): PolicyBundleInput {
  const { metadata, spec } = blueprint;
  const services: EgressServiceSpec[] = (spec.services ?? []).map((service) => ({
    name: service.name,
    // A name-only entry without a shared service grants no host (validate reports it).
    hosts: service.hosts ?? [],
    ...(service.ports ? { ports: service.ports } : {}),
    ...(service.access ? { access: service.access } : {}),
    ...(service.rules ? { rules: service.rules } : {}),
    ...(service.credential ? { credential: service.credential } : {}),
    ...(service.credentialHeader ? { credentialHeader: service.credentialHeader } : {}),
    ...(service.cidrs ? { cidrs: service.cidrs } : {}),
  }));
  return {
    blueprint: {
      name: metadata.name,
      version: metadata.version,
      ...(spec.tools?.commands ? { commands: spec.tools.commands } : {}),
      ...(spec.tools?.mcp ? { mcp: spec.tools.mcp } : {}),
      services,
      ...(spec.dataScope ? { dataScope: spec.dataScope } : {}),
      ...(spec.writes ? { writes: spec.writes } : {}),
    },
    protectedPaths: POLICY_PROTECTED_PATHS,
    extraPolicies: [...policies].map(([file, text]) => ({ file, text })),
    ...(bundle ? { bundle } : {}),
  };
}
