export { lifecycleActions, recordOnlyRelease } from './actions.ts';
export type { LifecycleActionsOptions, ReleaseFunction } from './actions.ts';
export { describeStep, resumeOpenApply, startApply } from './apply.ts';
export type {
  ApplyOptions,
  ApplyOutcome,
  BundleRelease,
  ReconcileActions,
  ReleasedBundle,
  StepProgress,
} from './apply.ts';
export { blueprintContentDigest, profileDigest, profileImage } from './digests.ts';
export { computePlan, isEmptyPlan, WITHDRAWN, workspaceIdFor } from './plan.ts';
export type { PlanInput } from './plan.ts';
export type {
  AdoptStep,
  AffectedUser,
  CreateStep,
  Plan,
  PlanStep,
  RebuildStep,
  ReleaseBundleEntry,
  ReleaseStep,
  RevokeStep,
} from './plan-types.ts';
export { approverOf, openSource, planSource, reconcileOnce, watchAndApply } from './reconcile.ts';
export type {
  PlannedChange,
  PlanOptions,
  ReconcileOnceOptions,
  ReconcileOutcome,
  SourceSpec,
  WatchOptions,
} from './reconcile.ts';
export { checkoutDirFor, directoryDigest, directorySource, fetchRepository } from './source.ts';
export type { DesiredStateSource } from './source.ts';
export { channelRelease } from './release-adapter.ts';
export type { ChannelReleaseOptions } from './release-adapter.ts';
