import type { ResolvedBlueprint } from '../../config/index.ts';
import { type BundlePolicy, type PolicyBundleInput, policyInputOf } from '../../policy/index.ts';

// The seam between the effective blueprint (config) and the policy compiler: the mapping itself
// is policy's (policyInputOf, shared with release compilation); the protected paths are the
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
  return policyInputOf(resolved.blueprint, policies, bundle);
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
