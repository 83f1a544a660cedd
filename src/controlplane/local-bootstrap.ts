import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { componentEvent } from '../audit/index.ts';
import type { DesiredState, Platform } from '../config/index.ts';
import { CONTROL_PLANE_SOURCE } from './audit/ingest.ts';
import { openStore } from './store/open-store.ts';
import type { Store } from './store/store.ts';

// What `paddock up` does before the control plane server exists: register the
// embedded IdP's demo users, give the first demo user a workspace record, and
// record that in the control plane's audit chain in the store (the one chain the
// running control plane continues). Re-running it is safe: users are updated in
// place and existing workspaces are left as they are.

export interface LocalBootstrapOptions {
  readonly state: DesiredState;
  /** Directory for the store and the audit key; created if missing. */
  readonly dataDir: string;
  /** Store URL; default: SQLite under dataDir. */
  readonly storeUrl?: string;
}

export interface LocalBootstrapResult {
  readonly storeUrl: string;
  readonly schemaVersion: number;
  readonly users: readonly string[];
  /** The demo workspace and whether this run created it. */
  readonly workspace:
    | { readonly id: string; readonly owner: string; readonly profile: string; readonly created: boolean }
    | undefined;
}

type DemoUser = Platform['spec']['identity']['demoUsers'][number];

/** The profile the assignments give a user: the first assignment naming them or one of their groups. */
export function profileFor(state: DesiredState, user: DemoUser): string | undefined {
  const assignments = state.assignments?.value.spec.assignments ?? [];
  const match = assignments.find(
    (a) => a.users.includes(user.email) || a.groups.some((group) => user.groups.includes(group)),
  );
  return match?.profile;
}

async function upsertUser(store: Store, user: DemoUser): Promise<void> {
  const existing = await store.getUser(user.email);
  if (existing) await store.updateUser(user.email, { displayName: user.name, groups: user.groups });
  else await store.createUser({ id: user.email, displayName: user.name, groups: user.groups });
}

export async function bootstrapLocal(options: LocalBootstrapOptions): Promise<LocalBootstrapResult> {
  const dataDir = resolve(options.dataDir);
  await mkdir(join(dataDir, 'audit'), { recursive: true, mode: 0o700 });
  const storeUrl = options.storeUrl ?? `sqlite:${join(dataDir, 'controlplane.db')}`;
  const identity = options.state.platform?.value.spec.identity;
  const demoUsers = identity?.provider === 'embedded' ? identity.demoUsers : [];

  const store = await openStore({ url: storeUrl });
  let users: string[];
  let workspace: LocalBootstrapResult['workspace'];
  try {
    for (const user of demoUsers) await upsertUser(store, user);
    users = demoUsers.map((user) => user.email);
    const owner = demoUsers.find((user) => profileFor(options.state, user) !== undefined);
    if (owner) {
      const profileName = profileFor(options.state, owner) as string;
      const profile = options.state.profiles.get(profileName)?.value;
      const id = `ws-${owner.email.split('@')[0]}`;
      const existing = await store.getWorkspace(id);
      if (!existing) {
        await store.createWorkspace({
          id,
          owner: owner.email,
          profile: profileName,
          provider: profile?.spec.provider ?? 'local',
          state: 'created',
        });
        await store.appendChainedAuditEvents(CONTROL_PLANE_SOURCE, [
          componentEvent({
            event: 'workspace.created',
            componentId: id,
            workspaceId: id,
            user: { uid: owner.email, name: owner.name, email: owner.email, groups: owner.groups },
            message: `workspace ${id} created for ${owner.email} with profile ${profileName}`,
          }) as unknown as Record<string, unknown>,
        ]);
      }
      workspace = { id, owner: owner.email, profile: profileName, created: !existing };
    }
  } finally {
    await store.close();
  }
  return { storeUrl, schemaVersion: store.schemaVersion, users, workspace };
}
