import type { DesiredState } from '../../config/index.ts';
import { matchReviewer } from '../../policy/index.ts';

// Roles come from the desired state, never from the request: an administrator is in one of
// `identity.adminGroups`; a reviewer is someone a blueprint's review gate names (by group or by
// user). Each answer is still checked per request (the review queue checks the gate stored with
// the request); these flags only decide what the console shows and the coarse route checks.

export interface Roles {
  readonly admin: boolean;
  readonly reviewer: boolean;
}

/** Every `group:`/`user:` entry any blueprint's reviewGates names. */
export function reviewerEntries(state: DesiredState): string[] {
  const entries = new Set<string>();
  for (const blueprint of state.blueprints.values())
    for (const entry of blueprint.value.spec.reviewGates?.reviewers ?? []) entries.add(entry);
  return [...entries];
}

/** The roles of a user with these groups. */
export function rolesFor(
  user: { readonly userId: string; readonly groups: readonly string[] },
  adminGroups: readonly string[],
  reviewers: readonly string[],
): Roles {
  return {
    admin: user.groups.some((group) => adminGroups.includes(group)),
    reviewer: matchReviewer({ id: user.userId, groups: user.groups }, reviewers) !== undefined,
  };
}
