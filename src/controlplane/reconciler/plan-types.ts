// The plan: what one commit of the desired state asks the control plane to change. Plain JSON,
// stored with the apply (so a resumed apply carries out exactly what was planned) and printed
// by `paddock plan --json`.

/** Provisions a workspace for an assigned user who has none (registering the user if needed). */
export interface CreateStep {
  readonly kind: 'create';
  readonly workspace: string;
  readonly owner: string;
  readonly profile: string;
  readonly provider: string;
  readonly profileDigest: string;
  readonly image: string;
}

/** Rebuilds a workspace whose profile's content (or image) changed since it was built. */
export interface RebuildStep {
  readonly kind: 'rebuild';
  readonly workspace: string;
  readonly owner: string;
  readonly profile: string;
  readonly profileDigest: string;
  readonly image: string;
  readonly reason: 'image changed' | 'profile changed';
}

/** Revokes a workspace whose owner is no longer assigned, is disabled, or was moved to another profile. */
export interface RevokeStep {
  readonly kind: 'revoke';
  readonly workspace: string;
  readonly owner: string;
  readonly reason: string;
}

/** Records what a workspace built before the reconciler knew it is built from; nothing is rebuilt. */
export interface AdoptStep {
  readonly kind: 'adopt';
  readonly workspace: string;
  readonly owner: string;
  readonly profileDigest: string;
  readonly image: string;
}

/** One blueprint's bundle in a release. */
export interface ReleaseBundleEntry {
  readonly blueprint: string;
  readonly version: string;
  readonly contentDigest: string;
  /** The digest last released, when there was one. */
  readonly previousDigest?: string;
  /** Whether its content differs from the last release (or it was never released). */
  readonly changed: boolean;
}

/**
 * Publishes the commit's bundles as one release. Planned when any blueprint's content changed
 * or a released blueprint is gone. It carries every blueprint of the commit, because a
 * channel's release is the whole set (a bundle left out is withdrawn).
 */
export interface ReleaseStep {
  readonly kind: 'release';
  readonly bundles: readonly ReleaseBundleEntry[];
  /** Blueprints released before and absent from this commit: the release withdraws them. */
  readonly withdrawn: readonly string[];
}

export type PlanStep = CreateStep | RebuildStep | RevokeStep | AdoptStep | ReleaseStep;

/** A user whose workspaces the plan changes, and why. */
export interface AffectedUser {
  readonly id: string;
  readonly changes: readonly string[];
}

export interface Plan {
  readonly commit: string;
  /** Steps in the order apply runs them: revocations first, then releases, creations, rebuilds, adoptions. */
  readonly steps: readonly PlanStep[];
  readonly users: readonly AffectedUser[];
  /** Steps by kind, except `release`: the bundles that change (changed plus withdrawn). */
  readonly summary: Readonly<Record<PlanStep['kind'], number>> & { readonly users: number };
}
