import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { PaddockError } from '../../core/index.ts';
import { type AgentSession, createAgentSession, type SessionDeps } from './agent-session.ts';
import { type HttpEndpoint, type HttpEndpointOptions, listenHttp } from './http-endpoint.ts';
import { createMcpLog } from './log.ts';
import { McpAudit } from './mcp-audit.ts';
import { type SocketEndpoint, type SocketEndpointOptions, serveSocket } from './socket-endpoint.ts';
import { toolNames } from './tool-names.ts';
import { memoryPinStore } from './tool-pins.ts';
import type { McpGatewayLimits, McpGatewayOptions } from './types.ts';

// The MCP gateway of one workspace: the servers the blueprint names, fronted as one MCP endpoint
// (docs/mcp.md). Each agent connection is a session of its own (agent-session.ts); the gateway
// holds what they share (the name table, the pins, the audit) and the session budget.

export const DEFAULT_MCP_LIMITS: McpGatewayLimits = {
  maxSessions: 16,
  sessionIdleMs: 30 * 60_000,
  callTimeoutMs: 10 * 60_000,
  connectTimeoutMs: 30_000,
  maxArgumentBytes: 1024 * 1024,
  maxToolsPerServer: 1000,
};

/** Opens sessions within the budget; endpoints call it for each new agent connection. */
export interface SessionSource {
  /** A new session, or undefined when `maxSessions` are open. */
  open(): AgentSession | undefined;
  readonly log: ReturnType<typeof createMcpLog>;
  readonly limits: McpGatewayLimits;
}

export interface McpGateway {
  /**
   * Serves one agent over an already-open transport (in-process clients, tests). Rejects with
   * PDK_MCP_UPSTREAM when `maxSessions` are open.
   */
  connect(transport: Transport): Promise<AgentSession>;
  /** The stdio shim's endpoint: a unix socket, one session per connection. */
  serveSocket(path: string, options?: SocketEndpointOptions): Promise<SocketEndpoint>;
  /** Streamable HTTP, one session per MCP session id. */
  listenHttp(options: HttpEndpointOptions): Promise<HttpEndpoint>;
  /** Sessions open now. */
  readonly sessions: number;
  /** Closes every endpoint and session (and the sessions' servers). */
  close(): Promise<void>;
}

/**
 * Throws PDK_MCP_CONFIG_INVALID when two allowed tools share an exposed name, or a stdio
 * server is planned without `launchStdio`.
 * @example
 * const gateway = createMcpGateway({ servers, decide, onEvent: spool.append,
 *   context: () => ({ workspaceId, sessionId, bundle }), launchStdio, secrets });
 * await gateway.serveSocket('/run/paddock/ws-1/mcp.sock', { uid: sandbox.uid });
 */
export function createMcpGateway(options: McpGatewayOptions): McpGateway {
  const limits = { ...DEFAULT_MCP_LIMITS, ...options.limits };
  const log = createMcpLog(options.logger);
  const names = toolNames(options.servers);
  const stdio = options.servers.find((server) => server.connection.transport === 'stdio');
  if (stdio && !options.launchStdio) {
    throw new PaddockError(
      'PDK_MCP_CONFIG_INVALID',
      `MCP server "${stdio.name}" is a stdio server but the gateway was given no launcher for it`,
    );
  }
  const deps: SessionDeps = {
    servers: options.servers,
    names,
    decide: options.decide,
    reviews: options.reviews,
    reviewGate: options.reviewGate,
    requester: options.requester,
    logging: options.logging,
    context: options.context,
    audit: new McpAudit(options.onEvent, options.context, log, options.logging),
    log,
    maxArgumentBytes: limits.maxArgumentBytes,
    callTimeoutMs: limits.callTimeoutMs,
    pins: options.pins ?? memoryPinStore(),
    limits,
    secrets: options.secrets,
    launchStdio: options.launchStdio,
  };
  const sessions = new Set<AgentSession>();
  const endpoints: { close(): Promise<void> }[] = [];
  const source: SessionSource = {
    log,
    limits,
    open() {
      if (sessions.size >= limits.maxSessions) {
        log.sessionRefused('gateway', sessions.size, limits.maxSessions);
        return undefined;
      }
      const session: AgentSession = createAgentSession(deps, () => sessions.delete(session));
      sessions.add(session);
      return session;
    },
  };
  return {
    async connect(transport) {
      const session = source.open();
      if (!session) throw new PaddockError('PDK_MCP_UPSTREAM', 'too many MCP sessions are open');
      await session.server.connect(transport);
      return session;
    },
    async serveSocket(path, socketOptions) {
      const endpoint = await serveSocket(source, path, socketOptions);
      endpoints.push(endpoint);
      return endpoint;
    },
    async listenHttp(httpOptions) {
      const endpoint = await listenHttp(source, httpOptions);
      endpoints.push(endpoint);
      return endpoint;
    },
    get sessions() {
      return sessions.size;
    },
    async close() {
      await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.close()));
      await Promise.all([...sessions].map((session) => session.close()));
    },
  };
}
