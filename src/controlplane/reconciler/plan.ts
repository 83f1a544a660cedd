import { createHash } from 'node:crypto';
import type { DesiredState, ResolvedBlueprint } from '../../config/index.ts';
import type { ReconcileMark, UserRecord, WorkspaceRecord } from '../store/store.ts';
import { blueprintContentDigest, profileDigest, profileImage } from './digests.ts';
import type { AffectedUser, Plan, PlanStep, ReleaseBundleEntry } from './plan-types.ts';

// Desired state (assignments, profiles, blueprints) against the store (users, workspaces and
// the reconciler's marks) → the plan. Pure: the same inputs give the same plan, step for step.
//
// - A user is assigned by the first assignment naming their e-mail or one of their groups (as
//   `profileFor` in local-bootstrap.ts). Users named by e-mail but not yet in the store are
//   registered by the create step.
// - An assigned, enabled user has exactly one active workspace, of their assigned profile.
// - Active = not revoked and not decommissioned. Everything else active is revoked.

const INACTIVE = new Set(['revoked', 'decommissioned']);

/** The mark of a blueprint whose bundle a release withdrew. */
export const WITHDRAWN = 'withdrawn';

export interface PlanInput {
  readonly commit: string;
  readonly state: DesiredState;
  readonly blueprints: ReadonlyMap<string, ResolvedBlueprint>;
  readonly users: readonly UserRecord[];
  readonly workspaces: readonly WorkspaceRecord[];
  readonly marks: readonly ReconcileMark[];
  /** The release seam (digests.ts); default blueprintContentDigest. */
  readonly bundleDigest?: (state: DesiredState, resolved: ResolvedBlueprint) => string;
  /**
   * The providers this control plane runs (`paddock up`: local only). A workspace whose profile
   * needs another is not created (noted for its user instead), so the plan stays empty rather
   * than failing every round. Default: every provider.
   */
  readonly providers?: ReadonlySet<string>;
}

/** `ws-` and 12 hex digits of the owner and profile: the same user and profile always get the same id. */
export function workspaceIdFor(owner: string, profile: string, attempt = 0): string {
  const digest = createHash('sha256').update(`${owner}\n${profile}\n${attempt}`).digest('hex');
  return `ws-${digest.slice(0, 12)}`;
}

interface Desired {
  readonly profile: string;
}

/** Each user's assignment: email matches first-come, group matches by assignment order. */
function desiredUsers(state: DesiredState, users: readonly UserRecord[]): Map<string, Desired> {
  const assignments = state.assignments?.value.spec.assignments ?? [];
  const byEmail = new Map<string, number>();
  const byGroup = new Map<string, number>();
  assignments.forEach((assignment, index) => {
    for (const user of assignment.users) if (!byEmail.has(user)) byEmail.set(user, index);
    for (const group of assignment.groups) if (!byGroup.has(group)) byGroup.set(group, index);
  });
  const first = (id: string, groups: readonly string[]) => {
    let best = byEmail.get(id) ?? Number.POSITIVE_INFINITY;
    for (const group of groups) best = Math.min(best, byGroup.get(group) ?? Number.POSITIVE_INFINITY);
    return Number.isFinite(best) ? assignments[best] : undefined;
  };
  const desired = new Map<string, Desired>();
  const known = new Set<string>();
  for (const user of users) {
    known.add(user.id);
    if (user.disabled) continue;
    const match = first(user.id, user.groups);
    if (match) desired.set(user.id, { profile: match.profile });
  }
  for (const [email] of byEmail) {
    if (known.has(email)) continue;
    desired.set(email, { profile: first(email, [])!.profile });
  }
  return desired;
}

export function computePlan(input: PlanInput): Plan {
  const { state, commit } = input;
  const desired = desiredUsers(state, input.users);
  const disabled = new Set(input.users.filter((user) => user.disabled).map((user) => user.id));
  const workspaceMarks = new Map<string, ReconcileMark>();
  const bundleMarks = new Map<string, ReconcileMark>();
  for (const mark of input.marks)
    (mark.kind === 'bundle' ? bundleMarks : workspaceMarks).set(mark.name, mark);
  const takenIds = new Set(input.workspaces.map((workspace) => workspace.id));
  const activeByOwner = new Map<string, WorkspaceRecord[]>();
  for (const workspace of input.workspaces) {
    if (INACTIVE.has(workspace.state)) continue;
    const list = activeByOwner.get(workspace.owner) ?? [];
    list.push(workspace);
    activeByOwner.set(workspace.owner, list);
  }

  const revokes: PlanStep[] = [];
  const creates: PlanStep[] = [];
  const rebuilds: PlanStep[] = [];
  const adopts: PlanStep[] = [];
  const affected = new Map<string, string[]>();
  const note = (user: string, change: string) => {
    const list = affected.get(user) ?? [];
    list.push(change);
    affected.set(user, list);
  };
  const digests = new Map<string, { digest: string; image: string }>();
  const profileOf = (name: string) => {
    let known = digests.get(name);
    if (!known) {
      known = { digest: profileDigest(state, name), image: profileImage(state, name) };
      digests.set(name, known);
    }
    return known;
  };

  for (const [owner, want] of [...desired].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const active = activeByOwner.get(owner) ?? [];
    const keep = active.find((workspace) => workspace.profile === want.profile);
    const profile = profileOf(want.profile);
    for (const workspace of active) {
      if (workspace === keep) continue;
      const reason =
        workspace.profile === want.profile
          ? 'a second workspace of the same profile'
          : `profile changed from ${workspace.profile} to ${want.profile}`;
      revokes.push({ kind: 'revoke', workspace: workspace.id, owner, reason });
      note(owner, `revoke ${workspace.id}: ${reason}`);
    }
    if (!keep) {
      const provider = state.profiles.get(want.profile)?.value.spec.provider ?? 'local';
      if (input.providers && !input.providers.has(provider)) {
        note(owner, `not created: profile ${want.profile} needs provider ${provider}, not run here`);
        continue;
      }
      let attempt = 0;
      let id = workspaceIdFor(owner, want.profile);
      while (takenIds.has(id)) id = workspaceIdFor(owner, want.profile, ++attempt);
      takenIds.add(id);
      creates.push({
        kind: 'create',
        workspace: id,
        owner,
        profile: want.profile,
        provider,
        profileDigest: profile.digest,
        image: profile.image,
      });
      note(owner, `create ${id} (profile ${want.profile})`);
      continue;
    }
    const mark = workspaceMarks.get(keep.id);
    if (!mark) {
      adopts.push({
        kind: 'adopt',
        workspace: keep.id,
        owner,
        profileDigest: profile.digest,
        image: profile.image,
      });
    } else if (mark.hash !== profile.digest) {
      const reason = mark.detail !== profile.image ? 'image changed' : 'profile changed';
      rebuilds.push({
        kind: 'rebuild',
        workspace: keep.id,
        owner,
        profile: want.profile,
        profileDigest: profile.digest,
        image: profile.image,
        reason,
      });
      note(owner, `rebuild ${keep.id}: ${reason}`);
    }
  }
  for (const [owner, active] of [...activeByOwner].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (desired.has(owner)) continue;
    const reason = disabled.has(owner) ? 'user disabled' : 'no longer assigned';
    for (const workspace of active) {
      revokes.push({ kind: 'revoke', workspace: workspace.id, owner, reason });
      note(owner, `revoke ${workspace.id}: ${reason}`);
    }
  }

  const digestOf = input.bundleDigest ?? blueprintContentDigest;
  const bundles: ReleaseBundleEntry[] = [];
  for (const [name, resolved] of [...input.blueprints].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const digest = digestOf(state, resolved);
    const previous = bundleMarks.get(name)?.hash;
    bundles.push({
      blueprint: name,
      version: resolved.blueprint.metadata.version,
      contentDigest: digest,
      ...(previous && previous !== WITHDRAWN ? { previousDigest: previous } : {}),
      changed: previous !== digest,
    });
  }
  const withdrawn = [...bundleMarks.values()]
    .filter((mark) => mark.hash !== WITHDRAWN && !input.blueprints.has(mark.name))
    .map((mark) => mark.name)
    .sort();
  const changedBundles = bundles.filter((bundle) => bundle.changed).length + withdrawn.length;
  const releases: PlanStep[] = changedBundles > 0 ? [{ kind: 'release', bundles, withdrawn }] : [];

  const steps = [...revokes, ...releases, ...creates, ...rebuilds, ...adopts];
  const users: AffectedUser[] = [...affected]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, changes]) => ({ id, changes }));
  const count = (kind: PlanStep['kind']) => steps.filter((step) => step.kind === kind).length;
  return {
    commit,
    steps,
    users,
    summary: {
      create: count('create'),
      rebuild: count('rebuild'),
      revoke: count('revoke'),
      adopt: count('adopt'),
      release: changedBundles,
      users: users.length,
    },
  };
}

/** True when applying the plan changes nothing. */
export function isEmptyPlan(plan: Plan): boolean {
  return plan.steps.length === 0;
}
