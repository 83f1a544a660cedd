import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { CHANNEL_PATH, CLOSE, HEARTBEAT_MS, MAX_FRAME_BYTES } from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { ReviewGate } from '../../policy/index.ts';
import type { Terminal, TerminalOpenOptions, TerminalTarget } from '../broker/terminal-target.ts';
import type { ReleaseEndpoint } from '../releases/release-endpoint.ts';
import type { Store } from '../store/store.ts';
import { CredentialVerifier } from './credential-verifier.ts';
import type { IdentityRegistry } from './identity-registry.ts';
import { WorkspaceConnection } from './workspace-connection.ts';

// The control plane's end of the workspace channel: a WebSocket endpoint on loopback or a
// unix socket that supervisors dial. The upgrade is refused (401) unless it carries a valid
// channel credential; a workspace has at most one connection (a newer one replaces it, as a
// restarted supervisor's must). Connected workspaces are TerminalTargets for the broker.

const log = createLogger('channel');

export type ChannelListen =
  | { readonly host?: '127.0.0.1' | '::1'; readonly port?: number }
  | { readonly path: string };

export interface ChannelServerOptions {
  readonly registry: IdentityRegistry;
  /** Default: loopback, an ephemeral port. */
  readonly listen?: ChannelListen;
  /** Default HEARTBEAT_MS. */
  readonly heartbeatMs?: number;
  /**
   * Where workspaces' review-gated calls are held: the control plane's one ReviewQueue
   * (`server.reviews`). Default none: a workspace's review requests are refused (its calls denied).
   */
  readonly reviews?: ReviewGate;
  /** Serves policy release files to supervisors and records their attestations (createReleaseEndpoint). Default none. */
  readonly releases?: Pick<ReleaseEndpoint, 'serve' | 'attest'>;
  /**
   * The central audit store: each workspace's `audit_batch` is stored under its own
   * (authenticated) workspace id and answered. Default none: batches are refused, spools keep them.
   */
  readonly auditStore?: Store;
  readonly now?: () => number;
  readonly onConnected?: (workspaceId: string) => void;
  readonly onDisconnected?: (workspaceId: string, code: number, reason: string) => void;
}

export class ChannelServer {
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #verifier: CredentialVerifier;
  readonly #options: ChannelServerOptions;
  readonly #connections = new Map<string, WorkspaceConnection>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #url = '';
  #socketPath: string | undefined;

  private constructor(options: ChannelServerOptions) {
    this.#options = options;
    this.#verifier = new CredentialVerifier(options.registry, options.now);
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
    this.#http = createServer((_request, response) => {
      response.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only\n');
    });
    this.#http.on('upgrade', (request, socket, head) => this.#upgrade(request, socket, head));
  }

  /** Starts listening. */
  static async start(options: ChannelServerOptions): Promise<ChannelServer> {
    const server = new ChannelServer(options);
    await server.#listen(options.listen ?? {});
    return server;
  }

  /** Where supervisors dial: `ws://127.0.0.1:PORT/channel` or `ws+unix:PATH:/channel`. */
  get url(): string {
    return this.#url;
  }

  /** Tells every connected supervisor that `channel` has release `version`; returns how many were told. */
  notifyRelease(channel: string, version: number): number {
    let told = 0;
    for (const connection of this.#connections.values())
      if (connection.notifyRelease(channel, version)) told++;
    return told;
  }

  /** Workspaces whose supervisor is connected now. */
  connectedWorkspaces(): string[] {
    return [...this.#connections.entries()].filter(([, connection]) => connection.ready).map(([id]) => id);
  }

  isConnected(workspaceId: string): boolean {
    return this.#connections.get(workspaceId)?.ready ?? false;
  }

  /**
   * The SSH host key (`ssh-ed25519 …`) the workspace's connected supervisor announced.
   * PDK_CHANNEL_NOT_CONNECTED while it is not connected; PDK_CHANNEL_TERMINAL when it serves no SSH.
   */
  sshHostKey(workspaceId: string): string {
    const connection = this.#connections.get(workspaceId);
    if (!connection?.ready)
      throw new PaddockError('PDK_CHANNEL_NOT_CONNECTED', `workspace ${workspaceId} is not connected`);
    if (!connection.sshHostKey)
      throw new PaddockError('PDK_CHANNEL_TERMINAL', `workspace ${workspaceId} does not serve SSH (no sshd)`);
    return connection.sshHostKey;
  }

  /** The workspace as the broker sees it; `open` rejects with PDK_CHANNEL_NOT_CONNECTED while it is not connected. */
  target(workspaceId: string): TerminalTarget {
    return {
      workspaceId,
      open: (options: TerminalOpenOptions): Promise<Terminal> => {
        const connection = this.#connections.get(workspaceId);
        if (!connection?.ready)
          return Promise.reject(
            new PaddockError('PDK_CHANNEL_NOT_CONNECTED', `workspace ${workspaceId} is not connected`),
          );
        return connection.open(options);
      },
    };
  }

  /** Resolves once the workspace is connected; PDK_CHANNEL_NOT_CONNECTED after `timeoutMs`. */
  waitForConnection(workspaceId: string, timeoutMs: number): Promise<void> {
    if (this.isConnected(workspaceId)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiters = this.#waiters.get(workspaceId) ?? new Set();
      this.#waiters.set(workspaceId, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(done);
        reject(
          new PaddockError(
            'PDK_CHANNEL_NOT_CONNECTED',
            `workspace ${workspaceId} did not connect within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      waiters.add(done);
    });
  }

  /** Rotates the connected workspace's identity; resolves to the new kid. */
  rotate(workspaceId: string): Promise<string> {
    const connection = this.#connections.get(workspaceId);
    if (!connection?.ready)
      return Promise.reject(
        new PaddockError('PDK_CHANNEL_NOT_CONNECTED', `workspace ${workspaceId} is not connected`),
      );
    return connection.rotate();
  }

  /** The kill switch's channel half: every key of the workspace revoked, its connection and terminals closed. */
  async revoke(workspaceId: string): Promise<void> {
    await this.#options.registry.revoke(workspaceId);
    this.disconnect(workspaceId, CLOSE.revoked, 'revoked');
  }

  /** Closes the workspace's connection (its terminals end); the supervisor may dial again. */
  disconnect(workspaceId: string, code: number = CLOSE.shutdown, reason = 'disconnected'): void {
    this.#connections.get(workspaceId)?.close(code, reason);
  }

  async close(): Promise<void> {
    for (const connection of [...this.#connections.values()])
      connection.close(CLOSE.shutdown, 'control plane stopping');
    for (const client of this.#wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
    if (this.#socketPath && existsSync(this.#socketPath)) unlinkSync(this.#socketPath);
  }

  async #listen(listen: ChannelListen): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      if ('path' in listen) {
        if (existsSync(listen.path)) unlinkSync(listen.path);
        this.#http.listen(listen.path, () => resolve());
      } else this.#http.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', () => resolve());
    });
    if ('path' in listen) {
      // Only root's processes (the supervisors) may dial the socket.
      chmodSync(listen.path, 0o600);
      this.#socketPath = listen.path;
      this.#url = `ws+unix:${listen.path}:${CHANNEL_PATH}`;
    } else {
      const address = this.#http.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      this.#url = `ws://${host}:${address.port}${CHANNEL_PATH}`;
    }
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    const path = (request.url ?? '').split('?')[0];
    if (path !== CHANNEL_PATH) {
      refuse(socket, 404, 'Not Found');
      return;
    }
    const match = /^Bearer ([A-Za-z0-9_\-.]{1,4096})$/.exec(request.headers.authorization ?? '');
    if (!match) {
      refuse(socket, 401, 'Unauthorized');
      return;
    }
    const verified = this.#verifier.verify(match[1] as string).then(async (credential) => {
      // Read from the store each time: a revocation on another replica holds here at once.
      if (await this.#options.registry.isRevoked(credential.workspaceId))
        throw new PaddockError(
          'PDK_CHANNEL_UNAUTHENTICATED',
          `workspace ${credential.workspaceId} is revoked`,
        );
      return credential;
    });
    verified.then(
      (credential) => {
        this.#wss.handleUpgrade(request, socket, head, (ws) => {
          const connection = new WorkspaceConnection({
            socket: ws,
            workspaceId: credential.workspaceId,
            kid: credential.kid,
            registry: this.#options.registry,
            heartbeatMs: this.#options.heartbeatMs ?? HEARTBEAT_MS,
            ...(this.#options.reviews ? { reviews: this.#options.reviews } : {}),
            ...(this.#options.releases ? { releases: this.#options.releases } : {}),
            ...(this.#options.auditStore ? { auditStore: this.#options.auditStore } : {}),
            onReady: (ready) => this.#onReady(ready),
            onClosed: (closed, code, reason) => this.#onClosed(closed, code, reason),
          });
          log.debug({ workspace: credential.workspaceId }, 'channel authenticated');
          return connection;
        });
      },
      (error: Error) => {
        log.warn({ error: error.message }, 'channel connection refused');
        refuse(socket, 401, 'Unauthorized');
      },
    );
  }

  #onReady(connection: WorkspaceConnection): void {
    const previous = this.#connections.get(connection.workspaceId);
    this.#connections.set(connection.workspaceId, connection);
    if (previous && previous !== connection) previous.close(CLOSE.replaced, 'replaced by a newer connection');
    log.info(
      { workspace: connection.workspaceId, supervisor: connection.supervisorVersion },
      'workspace connected',
    );
    this.#options.onConnected?.(connection.workspaceId);
    for (const waiter of [...(this.#waiters.get(connection.workspaceId) ?? [])]) waiter();
  }

  #onClosed(connection: WorkspaceConnection, code: number, reason: string): void {
    if (this.#connections.get(connection.workspaceId) !== connection) return;
    this.#connections.delete(connection.workspaceId);
    log.info({ workspace: connection.workspaceId, code, reason }, 'workspace disconnected');
    this.#options.onDisconnected?.(connection.workspaceId, code, reason);
  }
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
