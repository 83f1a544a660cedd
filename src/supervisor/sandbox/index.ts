export { prepareSandbox, startSandbox } from './launch-sandbox.ts';
export type { PreparedSandbox, RunningSandbox, SandboxExit, SandboxOptions } from './launch-sandbox.ts';
export type { ReadOnlyBind } from './mount-plan.ts';
export { HARNESS_SETTINGS_PATHS } from './mount-plan.ts';
export { runSandbox } from './run-sandbox.ts';
export type { RunSandboxOptions, SandboxRunResult } from './run-sandbox.ts';
export { probeSandboxFeatures, requireSandboxFeatures } from './kernel-features.ts';
export type { FeatureReport, FeatureStatus } from './kernel-features.ts';
export { DEFAULT_SANDBOX_LIMITS, resolveLimits } from './sandbox-limits.ts';
export { DEFAULT_GIT_SCAN_LIMITS } from './git-scan.ts';
export type { GitScanLimits } from './git-scan.ts';
export type { GitHookChange } from './git-hook-report.ts';
export { SANDBOX_PATHS, SANDBOX_USER } from './sandbox-types.ts';
export type {
  DataScope,
  OptionalSandboxFeature,
  SandboxLimits,
  SandboxNetworkAttachment,
} from './sandbox-types.ts';
export { SANDBOX_UID_BASE, SANDBOX_UID_SLOTS } from './sandbox-uid.ts';
export { compileSeccompFilter } from './seccomp/compile-seccomp.ts';
export { ensureNativeBinaries } from './native-binaries.ts';
