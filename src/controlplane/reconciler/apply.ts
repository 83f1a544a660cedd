import { randomBytes } from 'node:crypto';
import { type OcsfEvent, policyEvent } from '../../audit/index.ts';
import { isPaddockError, PaddockError } from '../../core/errors.ts';
import type { JsonValue, ReconcileApplyRecord, ReconcileMark, Store } from '../store/store.ts';
import { WITHDRAWN } from './plan.ts';
import type { CreateStep, Plan, PlanStep, ReleaseBundleEntry } from './plan-types.ts';

// Carries a plan out. The apply (commit, plan, approver) is stored before the first step; each
// step is marked done in the same transaction as the mark it leaves, and each step is itself
// idempotent (it checks the store before acting), so a process killed anywhere resumes with
// `resumeOpenApply`: done steps are skipped, the step that was running is repeated safely.

/** A release, as the reconciler hands it to the release seam. */
export interface BundleRelease {
  readonly commit: string;
  readonly approvedBy: string;
  /** Every blueprint of the commit (`changed` marks the ones whose content differs). */
  readonly bundles: readonly ReleaseBundleEntry[];
  /** Blueprints to withdraw (released before, gone from the commit). */
  readonly withdrawn: readonly string[];
}

/** One bundle the release seam published. */
export interface ReleasedBundle {
  readonly blueprint: string;
  readonly id: string;
  readonly version: string;
  /** The channel released to, e.g. `canary`. */
  readonly channel?: string;
}

/**
 * What a step does to the world. In the control plane these are the workspace lifecycle and the
 * release module (`lifecycleActions`); each must be safe to repeat after a crash.
 */
export interface ReconcileActions {
  create(actor: string, step: CreateStep): Promise<void>;
  /** Provisions again a workspace whose record exists but whose creation may not have finished. */
  reprovision(actor: string, workspaceId: string): Promise<void>;
  rebuild(actor: string, workspaceId: string): Promise<void>;
  revoke(actor: string, workspaceId: string): Promise<void>;
  /** Publishes the commit's bundles as one release; must be idempotent for the same commit. */
  release(release: BundleRelease): Promise<readonly ReleasedBundle[]>;
}

export interface StepProgress {
  readonly applyId: string;
  readonly index: number;
  readonly total: number;
  readonly step: PlanStep;
  /** `skipped`: the store showed it was already done (a resumed step). */
  readonly outcome: 'done' | 'skipped';
}

export interface ApplyOptions {
  readonly store: Store;
  readonly actions: ReconcileActions;
  /** Appends to the control plane's audit log (policy.released). */
  readonly audit: (event: OcsfEvent) => Promise<unknown>;
  /** Called after each step is recorded as done. */
  readonly onStep?: (progress: StepProgress) => void | Promise<void>;
}

export interface ApplyOutcome {
  readonly applyId: string;
  readonly commit: string;
  readonly approvedBy: string;
  readonly steps: number;
  /** Steps this run carried out (a resumed apply counts only the ones left). */
  readonly ran: number;
  readonly resumed: boolean;
}

const ACTIVE_STATES = new Set(['created', 'running', 'stopped']);

/** Records the plan as an open apply and carries it out. PDK_STORE_CONFLICT if another is open. */
export async function startApply(
  plan: Plan,
  approvedBy: string,
  options: ApplyOptions,
): Promise<ApplyOutcome> {
  if (!approvedBy.trim())
    throw new PaddockError('PDK_RECONCILE_APPROVER', `the apply of ${plan.commit} names no approver`);
  const record = await options.store.beginReconcileApply({
    id: `ap-${randomBytes(8).toString('hex')}`,
    commit: plan.commit,
    plan: plan as unknown as JsonValue,
    approvedBy,
  });
  return carryOut(record, options, false);
}

/** Finishes the apply a crash interrupted, if there is one. */
export async function resumeOpenApply(options: ApplyOptions): Promise<ApplyOutcome | undefined> {
  const open = await options.store.openReconcileApply();
  return open && carryOut(open, options, true);
}

async function carryOut(
  record: ReconcileApplyRecord,
  options: ApplyOptions,
  resumed: boolean,
): Promise<ApplyOutcome> {
  const plan = record.plan as unknown as Plan;
  const done = new Set(record.doneSteps);
  let ran = 0;
  for (const [index, step] of plan.steps.entries()) {
    if (done.has(index)) continue;
    let result: { marks: ReconcileMark[]; acted: boolean };
    try {
      result = await runStep(step, record, options);
    } catch (error) {
      throw new PaddockError(
        'PDK_RECONCILE_STEP',
        `apply ${record.id} (commit ${record.commit}) step ${index + 1}/${plan.steps.length} ${describeStep(step)} failed: ${(error as Error).message}`,
        {
          cause: error,
          details: { applyId: record.id, index, code: isPaddockError(error) ? error.code : undefined },
        },
      );
    }
    await options.store.completeReconcileStep(record.id, index, result.marks);
    ran++;
    await options.onStep?.({
      applyId: record.id,
      index,
      total: plan.steps.length,
      step,
      outcome: result.acted ? 'done' : 'skipped',
    });
  }
  await options.store.finishReconcileApply(record.id);
  return {
    applyId: record.id,
    commit: record.commit,
    approvedBy: record.approvedBy,
    steps: plan.steps.length,
    ran,
    resumed,
  };
}

/** `create ws-… for ada@example.com (profile standard)`. */
export function describeStep(step: PlanStep): string {
  switch (step.kind) {
    case 'create':
      return `create ${step.workspace} for ${step.owner} (profile ${step.profile})`;
    case 'rebuild':
      return `rebuild ${step.workspace} of ${step.owner}: ${step.reason}`;
    case 'revoke':
      return `revoke ${step.workspace} of ${step.owner}: ${step.reason}`;
    case 'adopt':
      return `adopt ${step.workspace} of ${step.owner}`;
    case 'release': {
      const changed = step.bundles.filter((bundle) => bundle.changed);
      const what = [
        ...changed.map((bundle) => `${bundle.blueprint} ${bundle.version}`),
        ...step.withdrawn.map((name) => `${name} (withdrawn)`),
      ];
      return `release ${step.bundles.length} bundle${step.bundles.length === 1 ? '' : 's'}, changed: ${what.join(', ')}`;
    }
  }
}

async function runStep(
  step: PlanStep,
  record: ReconcileApplyRecord,
  options: ApplyOptions,
): Promise<{ marks: ReconcileMark[]; acted: boolean }> {
  const { store, actions } = options;
  const actor = record.approvedBy;
  const workspaceMark = (id: string, digest: string, image: string): ReconcileMark => ({
    kind: 'workspace',
    name: id,
    hash: digest,
    detail: image,
    commit: record.commit,
  });
  switch (step.kind) {
    case 'create': {
      const existing = await store.getWorkspace(step.workspace);
      if (!existing) {
        if (!(await store.getUser(step.owner))) await registerUser(store, step.owner);
        await actions.create(actor, step);
      } else if (existing.state === 'created') {
        // Created before a crash: its provisioning may not have finished.
        await actions.reprovision(actor, step.workspace);
      }
      return { marks: [workspaceMark(step.workspace, step.profileDigest, step.image)], acted: !existing };
    }
    case 'rebuild': {
      const existing = await store.getWorkspace(step.workspace);
      const acted = existing !== undefined && ACTIVE_STATES.has(existing.state);
      if (acted) await actions.rebuild(actor, step.workspace);
      return { marks: [workspaceMark(step.workspace, step.profileDigest, step.image)], acted };
    }
    case 'revoke': {
      const existing = await store.getWorkspace(step.workspace);
      const acted = existing !== undefined && ACTIVE_STATES.has(existing.state);
      if (acted) await actions.revoke(actor, step.workspace);
      return { marks: [], acted };
    }
    case 'adopt':
      return { marks: [workspaceMark(step.workspace, step.profileDigest, step.image)], acted: true };
    case 'release': {
      const released = await actions.release({
        commit: record.commit,
        approvedBy: record.approvedBy,
        bundles: step.bundles,
        withdrawn: step.withdrawn,
      });
      const versions = new Map(step.bundles.map((bundle) => [bundle.blueprint, bundle.version]));
      for (const bundle of released) {
        await options.audit(
          policyEvent({
            event: 'policy.released',
            bundle: { id: bundle.id, version: bundle.version },
            ...(bundle.channel ? { channel: bundle.channel } : {}),
            blueprint: { name: bundle.blueprint, version: versions.get(bundle.blueprint) ?? bundle.version },
            user: { uid: record.approvedBy },
            commit: record.commit,
            approvedBy: record.approvedBy,
            message: `bundle ${bundle.id} of blueprint ${bundle.blueprint} released from commit ${record.commit}, approved by ${record.approvedBy} (apply ${record.id})`,
          }),
        );
      }
      const marks: ReconcileMark[] = step.bundles.map((bundle) => ({
        kind: 'bundle',
        name: bundle.blueprint,
        hash: bundle.contentDigest,
        detail: released.find((item) => item.blueprint === bundle.blueprint)?.id ?? '',
        commit: record.commit,
      }));
      for (const name of step.withdrawn)
        marks.push({ kind: 'bundle', name, hash: WITHDRAWN, detail: '', commit: record.commit });
      return { marks, acted: true };
    }
  }
}

async function registerUser(store: Store, id: string): Promise<void> {
  try {
    await store.createUser({ id, displayName: id });
  } catch (error) {
    // A sign-in registered them meanwhile.
    if (!(isPaddockError(error) && error.code === 'PDK_STORE_CONFLICT')) throw error;
  }
}
