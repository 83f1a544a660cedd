import type { DesiredState } from '../../config/index.ts';
import type { AzureWorkspace } from './render.ts';

// The workspaces `paddock render azure` renders without a control plane: one per user an
// assignment with an azure profile names (users listed, plus the embedded IdP's demo users of
// listed groups; members of an enterprise IdP group are only known to the control plane), with
// the assignment's first blueprint. The id is the user's e-mail and slots follow e-mail order;
// the control plane's reconciler renders with real workspace ids and the slots it persisted.

export function azureWorkspacesOf(state: DesiredState): AzureWorkspace[] {
  const demoUsers = state.platform?.value.spec.identity.demoUsers ?? [];
  const byOwner = new Map<string, { profile: string; blueprint: string }>();
  for (const assignment of state.assignments?.value.spec.assignments ?? []) {
    if (state.profiles.get(assignment.profile)?.value.spec.provider !== 'azure') continue;
    const members = [
      ...assignment.users,
      ...demoUsers
        .filter((user) => user.groups.some((group) => assignment.groups.includes(group)))
        .map((user) => user.email),
    ];
    for (const owner of members) {
      if (!byOwner.has(owner))
        byOwner.set(owner, { profile: assignment.profile, blueprint: assignment.blueprints[0] ?? '' });
    }
  }
  return [...byOwner]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([owner, entry], slot) => ({
      id: owner,
      owner,
      profile: entry.profile,
      blueprint: entry.blueprint,
      slot,
    }));
}
