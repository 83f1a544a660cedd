import type { WorkspaceIdentity } from '../core/channel/index.ts';

// What the workspace lifecycle asks of a provider (local, kubevirt, azure). The lifecycle owns
// the state machine and the audit trail; a provider only makes the workspace's runtime match.

/** The workspace as a provider needs it. */
export interface WorkspaceSpec {
  readonly id: string;
  readonly owner: string;
  readonly profile: string;
  /** The blueprint the workspace's terminals run under. */
  readonly blueprint: string;
  /** The desired-state directory the profile and blueprint come from. */
  readonly configDir: string;
  /**
   * The signed policy releases the workspace follows (docs/releases.md): the channel, and a file
   * holding the channel's root.json, its trust anchor. Without it the supervisor enforces the
   * blueprint compiled from configDir.
   */
  readonly releases?: { readonly channel: string; readonly rootFile: string };
}

export type ProviderStatus = 'absent' | 'stopped' | 'running';

export interface WorkspaceProvider {
  readonly name: string;
  /** Creates the workspace's persistent data. Idempotent. */
  provision(spec: WorkspaceSpec): Promise<void>;
  /** Starts the workspace's supervisor with this identity; it dials `channelUrl`. */
  start(spec: WorkspaceSpec, identity: WorkspaceIdentity, channelUrl: string): Promise<void>;
  /** Stops the supervisor (graceful, then forced). Idempotent. */
  stop(workspaceId: string): Promise<void>;
  /** Recreates the workspace's system state from its profile (it must be stopped). */
  rebuild(spec: WorkspaceSpec): Promise<void>;
  /** Removes the identity the supervisor holds (the kill switch). Idempotent. */
  dropCredentials(workspaceId: string): Promise<void>;
  /** Removes every byte of the workspace's data. Idempotent. */
  destroy(workspaceId: string): Promise<void>;
  status(workspaceId: string): ProviderStatus;
  /** Stops every supervisor this provider runs (shutdown). */
  close(): Promise<void>;
}
