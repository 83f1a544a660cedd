import { createHash } from 'node:crypto';
import type { DesiredState, ResolvedBlueprint } from '../../config/index.ts';
import { canonicalJson } from '../../policy/index.ts';

// Content digests the plan compares with what the store says was last built or released. Both
// are over canonical JSON, so formatting, key order and comments in the YAML never count as a
// change; a changed value always does.

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A profile's spec (provider, image, size, limits, lifetimes): what a workspace is built from. */
export function profileDigest(state: DesiredState, profile: string): string {
  return sha256(canonicalJson(state.profiles.get(profile)?.value.spec ?? null));
}

/** The image a profile pins ('' for the local provider, which has none). */
export function profileImage(state: DesiredState, profile: string): string {
  return state.profiles.get(profile)?.value.spec.image ?? '';
}

/**
 * What decides whether a blueprint's bundle must be released again. SEAM: the release bundle
 * compiler (src/policy/bundle/) stamps the source commit into every bundle, so its bytes change
 * with every commit; the reconciler releases on a change of content instead: the effective
 * blueprint (inheritance and shared services applied) and every policies/*.cedar file, which is
 * everything the compiler reads. Replace with the compiler's own commit-free content hash when
 * it offers one (`ReconcileOptions.bundleDigest`).
 */
export function blueprintContentDigest(state: DesiredState, resolved: ResolvedBlueprint): string {
  const policies = [...state.policies].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256(canonicalJson({ blueprint: resolved.blueprint, policies }));
}
