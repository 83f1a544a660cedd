import {
  type DesiredState,
  type ResolvedBlueprint,
  requireValidRepository,
  type ValidRepository,
} from '../../config/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { Store } from '../store/store.ts';
import { type ApplyOptions, type ApplyOutcome, resumeOpenApply, startApply } from './apply.ts';
import { computePlan } from './plan.ts';
import type { Plan } from './plan-types.ts';
import { type DesiredStateSource, directorySource, fetchRepository } from './source.ts';

// One reconcile: fetch the desired state at a commit, validate it, plan against the store, and
// (for apply) finish any interrupted apply first, then carry the new plan out. `watchAndApply`
// repeats it on an interval until stopped.

const log = createLogger('reconciler');

/** Where the desired state is: a directory, or a Git repository at a ref. */
export type SourceSpec =
  | { readonly kind: 'directory'; readonly dir: string }
  | { readonly kind: 'git'; readonly url: string; readonly ref: string; readonly cacheDir: string };

export function openSource(spec: SourceSpec): Promise<DesiredStateSource> {
  return spec.kind === 'directory'
    ? directorySource(spec.dir)
    : fetchRepository(spec.url, spec.ref, spec.cacheDir);
}

export interface PlannedChange {
  readonly source: DesiredStateSource;
  readonly state: DesiredState;
  readonly blueprints: ReadonlyMap<string, ResolvedBlueprint>;
  readonly plan: Plan;
}

export interface PlanOptions {
  readonly bundleDigest?: (state: DesiredState, resolved: ResolvedBlueprint) => string;
  /** Only create workspaces of these providers (PlanInput.providers). */
  readonly providers?: ReadonlySet<string>;
}

/** Validates the source (PDK_CONFIG_INVALID with every problem) and plans it against the store. */
export async function planSource(
  source: DesiredStateSource,
  store: Store,
  options: PlanOptions = {},
  valid?: ValidRepository,
): Promise<PlannedChange> {
  const { state, blueprints } = valid ?? (await requireValidRepository(source.dir));
  const [users, workspaces, marks] = await Promise.all([
    store.listUsers(),
    store.listWorkspaces(),
    store.listReconcileMarks(),
  ]);
  const plan = computePlan({
    commit: source.commit,
    state,
    blueprints,
    users,
    workspaces,
    marks,
    ...(options.bundleDigest ? { bundleDigest: options.bundleDigest } : {}),
    ...(options.providers ? { providers: options.providers } : {}),
  });
  return { source, state, blueprints, plan };
}

/**
 * The approver of an apply: the one named, else the commit's verified signer, else its author.
 * PDK_RECONCILE_APPROVER when none is known (a plain directory without --approved-by).
 */
export function approverOf(source: DesiredStateSource, named: string | undefined, fallback?: string): string {
  const approver = named?.trim() || source.signer || source.author || fallback?.trim();
  if (!approver)
    throw new PaddockError(
      'PDK_RECONCILE_APPROVER',
      `${source.dir} at ${source.commit} is not a Git commit: name who approved the apply`,
    );
  return approver;
}

export interface ReconcileOutcome {
  readonly resumed?: ApplyOutcome;
  readonly planned: PlannedChange;
  readonly applied?: ApplyOutcome;
}

export interface ReconcileOnceOptions extends ApplyOptions, PlanOptions {
  /** Called with the validated desired state before anything is applied (the lifecycle reads blueprints from it). */
  readonly onState?: (state: DesiredState) => void;
  /** Called with the plan before it is applied. */
  readonly onPlanned?: (planned: PlannedChange) => void;
  /**
   * Checks a non-empty plan before it is recorded (e.g. that its bundles compile). A failure
   * records nothing, so no apply is left open on a commit that can never be carried out (a plain
   * directory cannot be compiled again once its files change).
   */
  readonly precheck?: (planned: PlannedChange) => Promise<void> | void;
  /**
   * The approver when none is named and the source is not a commit with a signer or author (a
   * plain directory `paddock up` watches: the operator who runs it).
   */
  readonly fallbackApprover?: string;
}

/**
 * Validates `source` (an invalid commit is never applied: PDK_CONFIG_INVALID), resumes an
 * interrupted apply, then plans `source` afresh and applies it unless the plan is empty.
 */
export async function reconcileOnce(
  source: DesiredStateSource,
  approvedBy: string | undefined,
  options: ReconcileOnceOptions,
): Promise<ReconcileOutcome> {
  const valid = await requireValidRepository(source.dir);
  options.onState?.(valid.state);
  const resumed = await resumeOpenApply(options);
  const planned = await planSource(source, options.store, options, valid);
  if (planned.plan.steps.length === 0) return { ...(resumed ? { resumed } : {}), planned };
  options.onPlanned?.(planned);
  await options.precheck?.(planned);
  const applied = await startApply(
    planned.plan,
    approverOf(source, approvedBy, options.fallbackApprover),
    options,
  );
  return { ...(resumed ? { resumed } : {}), planned, applied };
}

export interface WatchOptions extends ReconcileOnceOptions {
  readonly source: SourceSpec;
  readonly approvedBy?: string;
  /** Between polls. Default 30 s. */
  readonly intervalMs?: number;
  readonly onReconciled?: (outcome: ReconcileOutcome) => void;
  readonly onError?: (error: unknown) => void;
  readonly signal: AbortSignal;
}

/**
 * Polls the source and applies what changed until `signal` aborts. A failed round (the source
 * unreachable, an invalid commit, a failed step) is reported and retried on the next poll; an
 * invalid commit is never applied, and what is in force stays.
 */
export async function watchAndApply(options: WatchOptions): Promise<void> {
  const interval = options.intervalMs ?? 30_000;
  while (!options.signal.aborted) {
    try {
      const source = await openSource(options.source);
      options.onReconciled?.(await reconcileOnce(source, options.approvedBy, options));
    } catch (error) {
      if (options.onError) options.onError(error);
      else log.error({ error: (error as Error).message }, 'reconcile failed; retrying on the next poll');
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, interval);
      options.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}
