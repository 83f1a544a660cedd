export { BundleUpdater } from './bundle-updater.ts';
export type { BundleUpdaterOptions, UpdateOutcome } from './bundle-updater.ts';
export { ChannelFetcher } from './channel-fetch.ts';
export type { ChannelFetcherOptions } from './channel-fetch.ts';
export { PolicyHolder } from './policy-holder.ts';
export type { AppliedBundleRef, AppliedListener, AppliedPolicy } from './policy-holder.ts';
export { TrustedStore } from './trusted-store.ts';
export type { LastGoodMeta } from './trusted-store.ts';
export {
  DEFAULT_SIZE_LIMITS,
  fetchTarget,
  MAX_ROOT_ROTATIONS,
  parseMetadata,
  refreshChannel,
} from './tuf-client.ts';
export type { ReleaseFetch, ReleaseSizeLimits, RefreshResult, TrustedMetadata } from './tuf-client.ts';
export { channelBundleUpdates } from './channel-updates.ts';
export type { ChannelBundleUpdates, ChannelBundleUpdatesOptions } from './channel-updates.ts';
