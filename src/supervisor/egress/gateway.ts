import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { type Clock, type Logger, newId, systemClock } from '../../core/index.ts';
import type { OcsfEvent } from '../../audit/index.ts';
import type { EgressPolicy } from '../../policy/index.ts';
import type { ClientConnection, GatewayCore, ListenerKind, ReviewGuard } from './admission.ts';
import { EgressAudit, type EgressEventContext, type EgressLogging } from './audit.ts';
import type { WorkspaceCa } from './ca.ts';
import { CredentialPlaceholders } from './credentials.ts';
import { serveProxyConnection } from './http-proxy.ts';
import { type EgressLimits, resolveLimits } from './limits.ts';
import type { EgressReviewQueue } from './review-hold.ts';
import { createEgressLog } from './log.ts';
import { type Resolver, systemResolver } from './resolver.ts';
import { errorBody, errorResponse } from './responses.ts';
import type { SecretStore } from './secret-store.ts';
import { serveSocks5 } from './socks5.ts';
import { serveTransparentHttp, serveTransparentTls } from './transparent.ts';
import { createTunnelRelay, defaultTunnelRelay, type TunnelRelayKind } from './tunnel-relay.ts';
import type { UpstreamTlsOptions } from './upstream.ts';
import {
  bindEgressSockets,
  type EgressListener,
  type EgressSockets,
  type SandboxNetwork,
} from '../sandbox/network/index.ts';

// The egress gateway of one sandbox: four listeners (explicit proxy, transparent 80 and
// 443, SOCKS5) over one policy, one resolver, one CA and one connection budget. Default
// deny: an empty policy lets nothing through.

/** Ports of the four listeners. 0 asks for an ephemeral port. Same shape as the network plumbing's ProxyPorts. */
export interface EgressPorts {
  readonly httpProxy: number;
  readonly transparentHttp: number;
  readonly transparentHttps: number;
  readonly socks: number;
}

export interface EgressGatewayOptions {
  /** The compiled policy (compileEgressPolicy / compileBlueprintEgress). */
  readonly policy: EgressPolicy;
  /** The workspace CA that inspected connections terminate TLS with. */
  readonly ca: WorkspaceCa;
  /** Receives every Network Activity and HTTP Activity event. Must not throw (a throw is logged, the event lost). */
  readonly onEvent: (event: OcsfEvent) => void;
  /** Workspace, session and the bundle in force, read at each event. */
  readonly context: () => EgressEventContext;
  /** Secrets for credentialed services. Without a store, requests to credentialed services fail (502). */
  readonly secrets?: SecretStore;
  /** Name resolution at the gateway. Default: the system resolver (dns.lookup, every address). */
  readonly resolver?: Resolver;
  /** Trust anchors for re-originated TLS. Default: Node's CA store. */
  readonly upstreamTls?: UpstreamTlsOptions;
  /** URL redaction in HTTP Activity events (the blueprint's `logging`). */
  readonly logging?: EgressLogging;
  readonly limits?: Partial<EgressLimits>;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Review-gated writes (the blueprint's `writes[].review: required`); see ReviewGuard. */
  readonly reviewGate?: ReviewGuard;
  /** The run's review queue, where covered writes are held. Without it they are refused (review_required). */
  readonly reviewQueue?: EgressReviewQueue;
  /**
   * What carries uninspected (L4) tunnels: `native` (splice(2) in a helper process built with
   * the C compiler on first use; Linux only) or `stream` (Node streams in the supervisor; any
   * OS, one copy through user space per chunk). Default: `native` on Linux, `stream`
   * elsewhere (a Windows guest has neither splice(2) nor a compiler). Asking for `native` where
   * it cannot be built fails with PDK_EGRESS_RELAY_BUILD: never a silent fallback.
   */
  readonly relay?: TunnelRelayKind;
}

/**
 * The gateway of one sandbox. As an EgressListener it plugs into the sandbox network
 * (listen(network) binds the four ports on the network's host address and accepts only the
 * sandbox's address); bind() opens the same listeners on any address, for `paddock run`
 * without a network namespace and for tests on loopback.
 */
export interface EgressGateway extends EgressListener {
  /** Opens the four listeners on `host` (0 = ephemeral port). Resolves with the bound ports. */
  bind(host: string, ports: EgressPorts): Promise<EgressPorts>;
  /** Replaces the policy atomically: new connections and requests see the new one at once. */
  setPolicy(policy: EgressPolicy): void;
  /** Environment for the sandbox: PADDOCK_CREDENTIAL_<NAME>=placeholder for each credential. */
  credentialEnv(): Record<string, string>;
  /** The CA certificate (PEM) the sandbox must trust. */
  readonly caCertPem: string;
  /** Open client connections, all listeners together. */
  readonly openConnections: number;
  /** Closes the listeners and every open connection. */
  close(): Promise<void>;
}

/** Original destination ports of the transparent listeners (what the nftables rules redirect). */
const TRANSPARENT_PORTS = { transparentHttp: 80, transparentHttps: 443 } as const;

/**
 * @example
 * const gateway = createEgressGateway({ policy, ca, onEvent: spool.append, context: () => ({ workspaceId, sessionId, bundle }) });
 * const ports = await gateway.listen('10.231.0.5', DEFAULT_PROXY_PORTS);
 */
export function createEgressGateway(options: EgressGatewayOptions): EgressGateway {
  const log = createEgressLog(options.logger);
  const placeholders = new CredentialPlaceholders();
  placeholders.bind(options.policy);
  const core: GatewayCore = {
    policy: options.policy,
    resolver: options.resolver ?? systemResolver,
    ca: options.ca,
    upstreamTls: options.upstreamTls ?? {},
    secrets: options.secrets,
    placeholders,
    limits: resolveLimits(options.limits),
    audit: new EgressAudit(options.onEvent, options.context, log, options.logging),
    log,
    clock: options.clock ?? systemClock,
    reviewGate: options.reviewGate,
    reviewQueue: options.reviewQueue,
    relay: createTunnelRelay(options.relay ?? defaultTunnelRelay(), (error) =>
      log.internal({ error: error.message }),
    ),
  };
  const servers: Server[] = [];
  const sockets = new Set<Socket>();

  const accept =
    (listener: ListenerKind, serve: (connection: ClientConnection) => Promise<void>) => (socket: Socket) => {
      socket.setNoDelay(true);
      socket.on('error', () => socket.destroy());
      const connection: ClientConnection = {
        id: newId(),
        socket,
        listener,
        sourceIp: socket.remoteAddress,
        startedAt: core.clock.now(),
      };
      if (sockets.size >= core.limits.maxConnections) return refuseOverLimit(core, connection);
      sockets.add(socket);
      socket.setTimeout(core.limits.idleTimeoutMs, () => socket.destroy());
      socket.once('close', async () => {
        // A relayed tunnel lives on in the relay after this socket closes: it counts against
        // the limit, and its close event is written, when the relay says it ended.
        const relayed = connection.relayed;
        const outcome = await relayed?.outcome;
        sockets.delete(socket);
        const admitted = connection.admitted;
        if (!admitted) return;
        core.audit.closed({
          connectionId: connection.id,
          sourceIp: connection.sourceIp,
          host: admitted.host,
          port: admitted.port,
          ip: admitted.addresses[0],
          service: admitted.service.name,
          // A relay that moves bytes through the socket itself (the stream relay) keeps its
          // counters running: the gateway's part is what they held at the handoff.
          bytesIn: relayed && outcome ? relayed.bytesWritten + outcome.down : socket.bytesWritten,
          bytesOut: relayed && outcome ? relayed.bytesRead + outcome.up : socket.bytesRead,
          durationMs: core.clock.now() - connection.startedAt,
        });
      });
      serve(connection).catch((error: Error) => {
        log.internal({ connectionId: connection.id, listener, error: error.message });
        socket.destroy();
      });
    };

  const open = (host: string, port: number, listener: ListenerKind, handler: (socket: Socket) => void) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer({ allowHalfOpen: true, noDelay: true }, handler);
      server.once('error', reject);
      server.listen({ host, port, backlog: 1024 }, () => {
        server.off('error', reject);
        servers.push(server);
        const bound = (server.address() as AddressInfo).port;
        log.listening({ listener, address: host, port: bound });
        resolve(bound);
      });
    });

  const handlers = {
    httpProxy: accept('http-proxy', (c) => serveProxyConnection(core, c)),
    transparentHttp: accept('transparent-http', (c) =>
      serveTransparentHttp(core, c, TRANSPARENT_PORTS.transparentHttp),
    ),
    transparentHttps: accept('transparent-https', (c) =>
      serveTransparentTls(core, c, TRANSPARENT_PORTS.transparentHttps),
    ),
    socks: accept('socks5', (c) => serveSocks5(core, c)),
  };
  const networkSockets: EgressSockets[] = [];

  return {
    async listen(network: SandboxNetwork) {
      networkSockets.push(
        await bindEgressSockets(network, handlers, {
          maxConnections: core.limits.maxConnections,
          idleTimeoutMs: core.limits.idleTimeoutMs,
          allowHalfOpen: true,
          onForeignConnection: (listener, remoteAddress) =>
            log.foreignConnection({ listener, remoteAddress }),
        }),
      );
    },
    async bind(host, ports) {
      const [httpProxy, transparentHttp, transparentHttps, socks] = await Promise.all([
        open(
          host,
          ports.httpProxy,
          'http-proxy',
          accept('http-proxy', (c) => serveProxyConnection(core, c)),
        ),
        open(
          host,
          ports.transparentHttp,
          'transparent-http',
          accept('transparent-http', (c) => serveTransparentHttp(core, c, TRANSPARENT_PORTS.transparentHttp)),
        ),
        open(
          host,
          ports.transparentHttps,
          'transparent-https',
          accept('transparent-https', (c) =>
            serveTransparentTls(core, c, TRANSPARENT_PORTS.transparentHttps),
          ),
        ),
        open(
          host,
          ports.socks,
          'socks5',
          accept('socks5', (c) => serveSocks5(core, c)),
        ),
      ]);
      return { httpProxy, transparentHttp, transparentHttps, socks };
    },
    setPolicy(policy) {
      placeholders.bind(policy);
      core.policy = policy;
    },
    credentialEnv: () => placeholders.env(),
    caCertPem: options.ca.certPem,
    get openConnections() {
      return sockets.size;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await core.relay.close();
      const closing = servers
        .splice(0)
        .map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      await Promise.all([...closing, ...networkSockets.splice(0).map((bound) => bound.close())]);
    },
  };
}

function refuseOverLimit(core: GatewayCore, connection: ClientConnection): void {
  const limit = core.limits.maxConnections;
  core.log.limitReached({ listener: connection.listener, open: limit, limit });
  core.audit.connection(
    {
      allow: false,
      stage: 'connect',
      reason: 'connection_limit',
      rule: 'default-deny',
      detail: `more than ${limit} open connections`,
    },
    { connectionId: connection.id, sourceIp: connection.sourceIp, host: '', port: 0 },
  );
  // Read and drop what the client sends, so its FIN is seen and the socket can close.
  connection.socket.resume();
  connection.socket.setTimeout(5_000, () => connection.socket.destroy());
  if (connection.listener === 'http-proxy' || connection.listener === 'transparent-http') {
    connection.socket.end(
      errorResponse(
        errorBody('PDK_EGRESS_LIMIT', 'connection_limit', {
          detail: `at most ${limit} open connections per sandbox`,
        }),
      ),
    );
  } else if (connection.listener === 'socks5') {
    connection.socket.end(Buffer.from([0x05, 0xff]));
  } else connection.socket.destroy();
}
