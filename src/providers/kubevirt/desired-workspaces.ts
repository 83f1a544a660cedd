import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DesiredState } from '../../config/index.ts';
import type { KubeVirtWorkspace } from './resources.ts';

// What `paddock render kubevirt` renders from the desired state alone: one workspace per user
// named in an assignment whose profile uses the kubevirt provider (explicit `users:` and, for
// the embedded IdP, the demo users whose groups match). Users known only to the enterprise IdP
// get their workspaces from the reconciler, which renders from the store.

/** A stable workspace id for a user's profile: `ws-` and 12 hex digits of SHA-256(owner/profile). */
export function renderedWorkspaceId(owner: string, profile: string): string {
  return `ws-${createHash('sha256').update(`${owner.toLowerCase()}/${profile}`).digest('hex').slice(0, 12)}`;
}

/** Every kubevirt workspace the desired state names, sorted by id. */
export function kubevirtWorkspacesOf(state: DesiredState): KubeVirtWorkspace[] {
  const demoUsers = state.platform?.value.spec.identity.demoUsers ?? [];
  const found = new Map<string, KubeVirtWorkspace>();
  for (const assignment of state.assignments?.value.spec.assignments ?? []) {
    const profile = state.profiles.get(assignment.profile)?.value;
    if (profile?.spec.provider !== 'kubevirt') continue;
    const users = new Set(assignment.users.map((user) => user.toLowerCase()));
    for (const demo of demoUsers)
      if (demo.groups.some((group) => assignment.groups.includes(group))) users.add(demo.email.toLowerCase());
    for (const owner of users) {
      const id = renderedWorkspaceId(owner, assignment.profile);
      if (found.has(id)) continue;
      found.set(id, {
        id,
        owner,
        profileName: assignment.profile,
        profile: profile.spec,
        blueprint: assignment.blueprints[0] ?? '',
      });
    }
  }
  return [...found.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** The desired-state files a supervisor reads, by repository-relative path. */
export async function desiredStateFilesOf(state: DesiredState): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const documents = [
    state.platform,
    state.assignments,
    ...state.blueprints.values(),
    ...state.profiles.values(),
    ...state.services.values(),
  ];
  for (const document of documents)
    if (document) files.set(document.file, await readFile(join(state.root, document.file), 'utf8'));
  for (const [file, text] of state.policies) files.set(file, text);
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}
