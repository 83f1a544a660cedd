export { compileCommit, compileRepository, releaseInput } from './compile-commit.ts';
export type { CompiledBundle, CompiledRelease } from './compile-commit.ts';
export { createReleaseEndpoint, policyStatuses } from './release-endpoint.ts';
export type {
  AttestationStore,
  ReleaseEndpoint,
  WorkspaceAttestation,
  WorkspacePolicyStatus,
} from './release-endpoint.ts';
export { openReleaseRepository, ReleaseRepository, readReleaseRepository } from './release-repository.ts';
export { startReleaseService } from './release-service.ts';
export type { ReleaseService, ReleaseServiceOptions } from './release-service.ts';
export type {
  BundleToRelease,
  ChannelSettings,
  ChannelStatus,
  MetadataLifetimes,
  ReleasedTarget,
  ReleaseOutcome,
  ReleaseRepositoryOptions,
} from './release-repository.ts';
export { ensureFileSigner, fileSigner, keySigner, tufKey } from './signer.ts';
export type { Signer } from './signer.ts';
