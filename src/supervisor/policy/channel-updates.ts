import type { OcsfEvent } from '../../audit/index.ts';
import type { ControlPlaneMessage, SupervisorMessage } from '../../core/channel/index.ts';
import { BundleUpdater } from './bundle-updater.ts';
import { ChannelFetcher } from './channel-fetch.ts';
import type { PolicyHolder } from './policy-holder.ts';
import type { ReleaseSizeLimits } from './tuf-client.ts';

// Bundle updates over the workspace channel: the glue between ChannelClient's callbacks and the
// updater. On connect the supervisor attests what it enforces and checks for a newer release;
// a `release_notify` for its channel triggers an update; answers to fetches go to the fetcher.
//
//   const updates = channelBundleUpdates({ channel, blueprint, stateDir, initialRoot, holder,
//     send: (message) => client.sendRelease(message) });
//   new ChannelClient({ …, onRelease: updates.onRelease, onConnected: updates.onConnected,
//     onDisconnected: updates.onDisconnected });
//   await updates.updater.start();

type ReleaseMessage = Extract<
  ControlPlaneMessage,
  { t: 'release_chunk' | 'release_missing' | 'release_notify' }
>;

export interface ChannelBundleUpdatesOptions {
  readonly channel: string;
  readonly blueprint: string;
  readonly stateDir: string;
  readonly initialRoot: Uint8Array;
  readonly holder: PolicyHolder;
  readonly send: (message: Extract<SupervisorMessage, { t: 'release_fetch' | 'bundle_attest' }>) => boolean;
  readonly limits?: ReleaseSizeLimits;
  readonly now?: () => Date;
  /** Fetch timeout, milliseconds. Default 30000. */
  readonly fetchTimeoutMs?: number;
  /** Receives policy.applied and policy.rejected events (BundleUpdaterOptions.audit). */
  readonly audit?: (event: OcsfEvent) => void;
  readonly workspaceId?: string;
}

export interface ChannelBundleUpdates {
  readonly updater: BundleUpdater;
  readonly fetcher: ChannelFetcher;
  onRelease(message: ReleaseMessage): void;
  onConnected(): void;
  onDisconnected(): void;
}

export function channelBundleUpdates(options: ChannelBundleUpdatesOptions): ChannelBundleUpdates {
  const fetcher = new ChannelFetcher({
    channel: options.channel,
    send: (message) => options.send(message),
    ...(options.fetchTimeoutMs ? { timeoutMs: options.fetchTimeoutMs } : {}),
  });
  const updater = new BundleUpdater({
    stateDir: options.stateDir,
    channel: options.channel,
    blueprint: options.blueprint,
    initialRoot: options.initialRoot,
    fetch: fetcher.fetch,
    holder: options.holder,
    attest: (attestation) => options.send({ t: 'bundle_attest', attestation }),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.workspaceId ? { workspaceId: options.workspaceId } : {}),
  });
  return {
    updater,
    fetcher,
    onRelease(message) {
      if (message.t === 'release_notify') {
        if (message.channel === options.channel) void updater.update();
        return;
      }
      fetcher.receive(message);
    },
    onConnected() {
      options.send({ t: 'bundle_attest', attestation: updater.attestation() });
      void updater.update();
    },
    onDisconnected() {
      fetcher.disconnected();
    },
  };
}
