import {
  compileEgressPolicy,
  createDecisionPoint,
  type DecisionPoint,
  type DecisionPointOptions,
  type DecisionRequest,
  denyAllBundle,
  type EgressPolicy,
  type PolicyDecision,
  type ReleaseBundle,
} from '../../policy/index.ts';

// The policy in force in a workspace, swapped whole. A new bundle's decision point and egress
// policy are built completely first (parsing Cedar can fail; then nothing changes), and only
// then does one assignment replace the old set. Decisions are synchronous, so every decision
// runs entirely against one set: none can see half of two bundles. Listeners (the PDP socket,
// the egress gateway) are told in the same tick, before any other decision can run.
//
// With no valid bundle the workspace enforces the deny-all bundle (DESIGN.md §5 invariant 5).

/** The bundle in force, as events and attestations name it. */
export interface AppliedBundleRef {
  readonly id: string;
  readonly version: string;
  /** sha256 of the bundle's bytes (hex); empty for deny-all. */
  readonly hash: string;
  /** The channel release (targets version) it came from; 0 for deny-all. */
  readonly release: number;
  readonly commit: string | null;
}

/** Everything one bundle enforces. */
export interface AppliedPolicy {
  readonly ref: AppliedBundleRef;
  /** The release bundle; undefined while deny-all is in force. */
  readonly bundle: ReleaseBundle | undefined;
  readonly decisionPoint: DecisionPoint;
  readonly egress: EgressPolicy;
}

export type AppliedListener = (applied: AppliedPolicy) => void;

export class PolicyHolder {
  readonly #options: DecisionPointOptions;
  readonly #listeners = new Set<AppliedListener>();
  #current: AppliedPolicy;

  /** Starts at deny-all. `options` are passed to every decision point built. */
  constructor(options: DecisionPointOptions = {}) {
    this.#options = options;
    this.#current = this.#denyAll();
  }

  /** The policy in force (read once per decision). */
  get current(): AppliedPolicy {
    return this.#current;
  }

  /** Whether deny-all is in force. */
  get denying(): boolean {
    return this.#current.bundle === undefined;
  }

  /** Decides with the policy in force; the answer names the bundle that made it. */
  decide(request: DecisionRequest): PolicyDecision {
    return this.#current.decisionPoint.decide(request);
  }

  /**
   * Applies a verified bundle. Throws (and changes nothing) when its policies do not load.
   * Returns what is now in force.
   */
  apply(bundle: ReleaseBundle, origin: { hash: string; release: number }): AppliedPolicy {
    const next: AppliedPolicy = Object.freeze({
      ref: Object.freeze({
        id: bundle.id,
        version: bundle.version,
        hash: origin.hash,
        release: origin.release,
        commit: bundle.source.commit,
      }),
      bundle,
      decisionPoint: createDecisionPoint(bundle.policy, this.#options),
      egress: compileEgressPolicy(bundle.network.services),
    });
    this.#swap(next);
    return next;
  }

  /**
   * The same bundle arrived in a later release (re-released or promoted unchanged): only the
   * release number it is attested with changes; nothing is rebuilt.
   */
  retag(release: number): AppliedPolicy {
    const current = this.#current;
    if (!current.bundle || current.ref.release === release) return current;
    const next: AppliedPolicy = Object.freeze({
      ...current,
      ref: Object.freeze({ ...current.ref, release }),
    });
    this.#swap(next);
    return next;
  }

  /** Enforces deny-all (no valid bundle). */
  denyAll(): AppliedPolicy {
    const next = this.#denyAll();
    this.#swap(next);
    return next;
  }

  /** Calls `listener` after every swap, synchronously; returns an unsubscribe function. */
  onApplied(listener: AppliedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #swap(next: AppliedPolicy): void {
    this.#current = next;
    for (const listener of this.#listeners) listener(next);
  }

  #denyAll(): AppliedPolicy {
    const bundle = denyAllBundle();
    return Object.freeze({
      ref: Object.freeze({ id: bundle.id, version: bundle.version, hash: '', release: 0, commit: null }),
      bundle: undefined,
      decisionPoint: createDecisionPoint(bundle, this.#options),
      egress: compileEgressPolicy([]),
    });
  }
}
