import { chmodSync, chownSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OcsfEvent } from '../../audit/index.ts';
import { createLogger, ENV, type LogLevel } from '../../core/index.ts';
import type { PolicyDecision, ReviewGate, ReviewGateSpec, ToolArgumentLogging } from '../../policy/index.ts';
import type { Resolver, SecretStore, UpstreamTlsOptions, WorkspaceCa } from '../egress/index.ts';
import {
  createMcpGateway,
  ensureMcpShim,
  MCP_SHIM_SOCKET,
  type McpCallRequest,
  type McpEventContext,
  type McpGateway,
  type McpServerPlan,
  sandboxedStdioLauncher,
} from '../mcp/index.ts';
import type { ReadOnlyBind } from '../sandbox/index.ts';

// The MCP gateway of one standalone run (docs/mcp.md, docs/standalone.md): the servers the
// blueprint names, fronted as one MCP server on a unix socket in the run directory. The socket
// and the native stdio shim are bound read-only into the sandbox; the harnesses' managed
// settings (standalone-hooks.ts) name the shim as their one MCP server.

const log = createLogger('mcp', { level: (process.env[ENV.logLevel] as LogLevel | undefined) ?? 'warn' });

/** Where the native MCP shim appears inside the sandbox (an `/etc/paddock-*` path, like the hook client). */
export const MCP_SHIM_SANDBOX_PATH = '/etc/paddock-mcp-shim';

export interface StandaloneMcpOptions {
  readonly runDir: string;
  readonly servers: readonly McpServerPlan[];
  /** The run's decision point. */
  readonly decide: (request: McpCallRequest) => PolicyDecision;
  readonly onEvent: (event: OcsfEvent) => void;
  readonly context: () => McpEventContext;
  readonly requester: { readonly id: string };
  readonly logging?: ToolArgumentLogging;
  readonly reviews?: ReviewGate;
  readonly reviewGate?: ReviewGateSpec;
  readonly secrets?: SecretStore;
  /** For stdio servers' own egress gateways. */
  readonly ca: WorkspaceCa;
  readonly resolver?: Resolver;
  readonly upstreamTls?: UpstreamTlsOptions;
  readonly stateDir?: string;
}

export interface StandaloneMcp {
  readonly gateway: McpGateway;
  /** The shim and the socket, read-only into the sandbox. */
  readonly binds: readonly ReadOnlyBind[];
  /** Hands the socket to the sandbox's uid (0600); until then only root may connect. */
  ownBy(uid: number): void;
  close(): Promise<void>;
}

/**
 * Builds the native shim (first use), copies it into the run directory, creates the gateway and
 * serves it on the run directory's socket (root's until ownBy: the bind needs it to exist).
 * Throws PaddockError: PDK_MCP_SHIM when the shim cannot be built, PDK_MCP_CONFIG_INVALID when
 * two allowed tools share a name.
 */
export async function startStandaloneMcp(options: StandaloneMcpOptions): Promise<StandaloneMcp> {
  // A copy in the run directory (root-owned, 0755 path), as for the hook client.
  const shim = join(options.runDir, 'paddock-mcp-shim');
  copyFileSync(ensureMcpShim(), shim);
  chmodSync(shim, 0o555);
  const socketPath = join(options.runDir, 'mcp.sock');
  const stdio = options.servers.some((server) => server.connection.transport === 'stdio');
  const gateway = createMcpGateway({
    servers: options.servers,
    decide: options.decide,
    onEvent: options.onEvent,
    context: options.context,
    requester: options.requester,
    logger: log,
    ...(options.logging ? { logging: options.logging } : {}),
    ...(options.reviews && options.reviewGate
      ? { reviews: options.reviews, reviewGate: options.reviewGate }
      : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...(stdio
      ? {
          launchStdio: sandboxedStdioLauncher({
            workRoot: join(options.runDir, 'mcp-servers'),
            ca: options.ca,
            onEvent: options.onEvent,
            context: options.context,
            logger: log,
            ...(options.secrets ? { secrets: options.secrets } : {}),
            ...(options.resolver ? { resolver: options.resolver } : {}),
            ...(options.upstreamTls ? { upstreamTls: options.upstreamTls } : {}),
            ...(options.stateDir ? { stateDir: options.stateDir } : {}),
          }),
        }
      : {}),
  });
  try {
    await gateway.serveSocket(socketPath);
  } catch (error) {
    await gateway.close();
    throw error;
  }
  return {
    gateway,
    binds: [
      { host: shim, dest: MCP_SHIM_SANDBOX_PATH },
      { host: socketPath, dest: MCP_SHIM_SOCKET },
    ],
    ownBy(uid) {
      chownSync(socketPath, uid, uid);
    },
    close: () => gateway.close(),
  };
}
