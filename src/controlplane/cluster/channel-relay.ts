import { CLOSE } from '../../core/channel/index.ts';
import { createLogger } from '../../core/log.ts';
import { CLUSTER_TOPICS, type ClusterBus, type ClusterMessage } from './notify-bus.ts';

// Supervisor-channel events that must reach whichever replica holds the workspace's connection.
// With several replicas, a revoke handled on replica A revokes the keys in the shared store, but
// the supervisor may be connected to replica B: without this relay, B's open connection would
// outlive the revocation. Each replica applies what it receives to its own connections.

const log = createLogger('cluster');

/** What a replica's ChannelServer offers the relay (ChannelServer implements it). */
export interface LocalChannel {
  disconnect(workspaceId: string, code?: number, reason?: string): void;
  notifyRelease(channel: string, version: number): number;
}

export type ChannelEvent =
  | { readonly type: 'revoked'; readonly workspaceId: string }
  | { readonly type: 'disconnect'; readonly workspaceId: string }
  | { readonly type: 'release'; readonly channel: string; readonly version: number };

export class ChannelRelay {
  readonly #bus: ClusterBus;
  readonly #local: LocalChannel;
  #unsubscribe: (() => void) | undefined;

  constructor(bus: ClusterBus, local: LocalChannel) {
    this.#bus = bus;
    this.#local = local;
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.#bus.subscribe(CLUSTER_TOPICS.channel, (message) =>
      this.#receive(message),
    );
  }

  stop(): void {
    this.#unsubscribe?.();
  }

  /** After ChannelServer.revoke on this replica: closes the workspace's connection on every other replica. */
  revoked(workspaceId: string): Promise<void> {
    this.#apply({ type: 'revoked', workspaceId });
    return this.#bus.publish(CLUSTER_TOPICS.channel, { type: 'revoked', workspaceId });
  }

  /** Closes the workspace's connection wherever it is (it may dial again). */
  disconnect(workspaceId: string): Promise<void> {
    this.#apply({ type: 'disconnect', workspaceId });
    return this.#bus.publish(CLUSTER_TOPICS.channel, { type: 'disconnect', workspaceId });
  }

  /** Tells every supervisor on every replica that `channel` has release `version`. */
  release(channel: string, version: number): Promise<void> {
    this.#apply({ type: 'release', channel, version });
    return this.#bus.publish(CLUSTER_TOPICS.channel, { type: 'release', channel, version });
  }

  #receive(message: ClusterMessage): void {
    if (message.origin === this.#bus.replicaId) return; // applied before publishing
    const event = parseEvent(message.body);
    if (!event) {
      log.warn({ origin: message.origin }, 'ignored a malformed channel event');
      return;
    }
    this.#apply(event);
  }

  #apply(event: ChannelEvent): void {
    if (event.type === 'revoked') this.#local.disconnect(event.workspaceId, CLOSE.revoked, 'revoked');
    else if (event.type === 'disconnect') this.#local.disconnect(event.workspaceId);
    else this.#local.notifyRelease(event.channel, event.version);
  }
}

function parseEvent(body: unknown): ChannelEvent | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  if (
    (record['type'] === 'revoked' || record['type'] === 'disconnect') &&
    typeof record['workspaceId'] === 'string'
  )
    return { type: record['type'], workspaceId: record['workspaceId'] };
  if (
    record['type'] === 'release' &&
    typeof record['channel'] === 'string' &&
    Number.isInteger(record['version'])
  )
    return { type: 'release', channel: record['channel'], version: record['version'] as number };
  return undefined;
}
