import type { ResolvedBlueprint } from '../../config/index.ts';
import {
  type BundlePolicy,
  type EgressServiceSpec,
  POLICY_PROTECTED_PATHS,
  type PolicyBundleInput,
} from '../../policy/index.ts';

// The seam between the effective blueprint (config) and the policy compiler (pure, imports only
// core): spec fields map one for one onto PolicyBlueprint, and the protected paths are the
// sandbox's own list, so the PDP and the kernel sandbox protect the same names.

/**
 * The compiler's input for a resolved blueprint and the repository's policies/*.cedar.
 *
 * @example compilePolicyBundle(policyInputFromBlueprint(resolveBlueprint(state, 'code-review'), state.policies))
 */
export function policyInputFromBlueprint(
  resolved: ResolvedBlueprint,
  policies: ReadonlyMap<string, string> = new Map(),
  bundle?: { id?: string; version?: string },
): PolicyBundleInput {
  const { metadata, spec } = resolved.blueprint;
  const services: EgressServiceSpec[] = (spec.services ?? []).map((service) => ({
    name: service.name,
    // A name-only entry without a shared service grants no host (validate reports it).
    hosts: service.hosts ?? [],
    ...(service.ports ? { ports: service.ports } : {}),
    ...(service.access ? { access: service.access } : {}),
    ...(service.rules ? { rules: service.rules } : {}),
    ...(service.credential ? { credential: service.credential } : {}),
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

/** The file a policy came from: the blueprint file that set its field, or its policies/*.cedar. */
export function policySourceFile(resolved: ResolvedBlueprint, policy: BundlePolicy): string {
  if (policy.source.file) return policy.source.file;
  const field = policy.source.field;
  if (field === undefined) return resolved.file;
  // The nearest recorded ancestor answers for a field that has no entry of its own.
  for (let path = field; path.length > 0; path = path.replace(/(\.[^.[\]]+|\[[^\]]*\])$/u, '')) {
    const file = resolved.sources.get(path);
    if (file) return file;
    if (!/[.[]/u.test(path)) break;
  }
  return resolved.file;
}
