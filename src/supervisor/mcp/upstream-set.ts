import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  type LoggingLevel,
  LoggingMessageNotificationSchema,
  type LoggingMessageNotification,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { PaddockError, PRODUCT_VERSION } from '../../core/index.ts';
import type { McpAudit } from './mcp-audit.ts';
import type { McpLog } from './log.ts';
import { type ForwardedDefinition, forwardedDefinition, type ToolPinStore, toolDigest } from './tool-pins.ts';
import type { ToolNames } from './tool-names.ts';
import { httpUpstream } from './upstream-http.ts';
import type { StdioLauncher } from './upstream-stdio.ts';
import type { McpGatewayLimits, McpServerPlan } from './types.ts';
import type { SecretStore } from '../egress/index.ts';

// The servers of ONE agent session. Each session gets its own connections (and its own sandboxed
// stdio processes): server-side state, log messages and progress never cross sessions, and the
// servers stop when the agent disconnects. Every (re)connection lists the tools again and checks
// them against the gateway-wide pins, so a server that changes a tool between connections, or
// announces a change mid-session, is caught.

/** A failed server is not retried sooner than this, so a broken one does not slow every request. */
const RETRY_AFTER_MS = 5000;

export interface UpstreamDeps {
  readonly servers: readonly McpServerPlan[];
  readonly names: ToolNames;
  readonly pins: ToolPinStore;
  readonly audit: McpAudit;
  readonly log: McpLog;
  readonly limits: McpGatewayLimits;
  readonly secrets?: SecretStore;
  readonly launchStdio?: StdioLauncher;
}

export interface UpstreamHooks {
  /** The set of tools the agent may see changed (a server announced a change or reconnected). */
  onToolsChanged(): void;
  /** A server sent a log message. */
  onLog(server: string, params: LoggingMessageNotification['params']): void;
}

/** An allowed tool as a server currently offers it. */
export interface OfferedTool {
  readonly server: string;
  readonly tool: string;
  readonly definition: ForwardedDefinition;
  /** `changed`: differs from its pin; withheld and refused. */
  readonly status: 'ok' | 'changed';
}

interface ServerState {
  client?: Client;
  connecting?: Promise<Client>;
  failedAt?: number;
  failure?: string;
  /** Allowed tools as last listed, by tool name; undefined until listed on this connection. */
  tools?: Map<string, OfferedTool>;
}

export class UpstreamSet {
  private readonly deps: UpstreamDeps;
  private readonly hooks: UpstreamHooks;
  private readonly state = new Map<string, ServerState>();
  private level: LoggingLevel | undefined;
  private closed = false;

  constructor(deps: UpstreamDeps, hooks: UpstreamHooks) {
    this.deps = deps;
    this.hooks = hooks;
    for (const server of deps.servers) this.state.set(server.name, {});
  }

  /** Every allowed tool every reachable server offers; unreachable servers contribute nothing. */
  async offeredTools(): Promise<OfferedTool[]> {
    const lists = await Promise.all(
      this.deps.servers.map((server) =>
        this.toolsOf(server.name).catch(() => new Map<string, OfferedTool>()),
      ),
    );
    return lists.flatMap((tools) => [...tools.values()]);
  }

  /** The allowed tools of one server, connecting and listing as needed. Rejects with PDK_MCP_UPSTREAM. */
  async toolsOf(server: string): Promise<Map<string, OfferedTool>> {
    const state = this.stateOf(server);
    const client = await this.connect(server);
    state.tools ??= await this.list(server, client);
    return state.tools;
  }

  /** An allowed tool as last listed on the current connection, without connecting. */
  cachedTool(server: string, tool: string): OfferedTool | undefined {
    return this.state.get(server)?.tools?.get(tool);
  }

  /**
   * The client of the connection whose listing offers `tool` with its pinned definition; undefined
   * when the current connection does not (a reconnect lists, and checks, the tools again first).
   */
  async checkedClient(server: string, tool: string): Promise<Client | undefined> {
    const state = this.stateOf(server);
    const tools = await this.toolsOf(server);
    const client = state.client;
    return client && state.tools === tools && tools.get(tool)?.status === 'ok' ? client : undefined;
  }

  /** The connected client of a server. Rejects with PDK_MCP_UPSTREAM. */
  async connect(server: string): Promise<Client> {
    const state = this.stateOf(server);
    if (state.client) return state.client;
    if (state.connecting) return state.connecting;
    if (this.closed) throw new PaddockError('PDK_MCP_UPSTREAM', 'the agent session is closed');
    if (state.failedAt !== undefined && Date.now() - state.failedAt < RETRY_AFTER_MS) {
      throw new PaddockError('PDK_MCP_UPSTREAM', `MCP server "${server}" is unavailable: ${state.failure}`);
    }
    state.connecting = this.open(server).finally(() => {
      state.connecting = undefined;
    });
    return state.connecting;
  }

  /** Forwards the agent's log level to every connected server that logs. */
  setLoggingLevel(level: LoggingLevel): void {
    this.level = level;
    for (const [server, state] of this.state) {
      if (state.client?.getServerCapabilities()?.logging) {
        state.client
          .setLoggingLevel(level)
          .catch((error: Error) => this.deps.log.upstreamFailed(server, error.message));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.state.values()].map(async (state) => {
        const client = state.client ?? (await state.connecting?.catch(() => undefined));
        state.client = undefined;
        await client?.close().catch(() => {});
      }),
    );
  }

  private stateOf(server: string): ServerState {
    const state = this.state.get(server);
    if (!state) throw new PaddockError('PDK_MCP_UPSTREAM', `no MCP server is named "${server}"`);
    return state;
  }

  private async open(name: string): Promise<Client> {
    const state = this.stateOf(name);
    const server = this.deps.servers.find((candidate) => candidate.name === name) as McpServerPlan;
    // No sampling, elicitation or roots: a server could otherwise steer the agent's model or ask
    // the user for input outside every policy (docs/mcp.md).
    const client = new Client(
      { name: 'paddock-mcp-gateway', version: PRODUCT_VERSION },
      { capabilities: {} },
    );
    try {
      const transport =
        server.connection.transport === 'stdio'
          ? await this.launch(server)
          : httpUpstream(server, this.deps.secrets);
      await client.connect(transport, { timeout: this.deps.limits.connectTimeoutMs });
    } catch (error) {
      await client.close().catch(() => {});
      state.failedAt = Date.now();
      state.failure = (error as Error).message;
      this.deps.log.upstreamFailed(name, state.failure);
      throw new PaddockError('PDK_MCP_UPSTREAM', `MCP server "${name}" is unavailable: ${state.failure}`, {
        cause: error,
      });
    }
    state.failedAt = undefined;
    client.onclose = () => {
      if (state.client !== client) return;
      // The next request reconnects, and lists (and checks) the tools again.
      state.client = undefined;
      state.tools = undefined;
      if (!this.closed) this.hooks.onToolsChanged();
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      if (state.client !== client) return;
      state.tools = await this.list(name, client).catch(() => undefined);
      this.hooks.onToolsChanged();
    });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      this.hooks.onLog(name, notification.params);
    });
    if (this.level && client.getServerCapabilities()?.logging) {
      await client.setLoggingLevel(this.level).catch(() => {});
    }
    if (this.closed) {
      await client.close().catch(() => {});
      throw new PaddockError('PDK_MCP_UPSTREAM', 'the agent session is closed');
    }
    state.client = client;
    return client;
  }

  private launch(server: McpServerPlan) {
    const launch = this.deps.launchStdio;
    if (!launch)
      throw new PaddockError('PDK_MCP_CONFIG_INVALID', 'the gateway has no launcher for stdio servers');
    return launch(server);
  }

  /** Lists a server's tools, keeps the allowed ones, and checks each against its pin. */
  private async list(server: string, client: Client): Promise<Map<string, OfferedTool>> {
    const tools = new Map<string, OfferedTool>();
    if (!client.getServerCapabilities()?.tools) return tools;
    const seen: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      seen.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined && seen.length < this.deps.limits.maxToolsPerServer);
    if (seen.length > this.deps.limits.maxToolsPerServer || cursor !== undefined) {
      this.deps.log.tooManyTools(server, this.deps.limits.maxToolsPerServer);
    }
    for (const tool of seen.slice(0, this.deps.limits.maxToolsPerServer)) {
      if (!this.deps.names.allows(server, tool.name) || tools.has(tool.name)) continue;
      const definition = forwardedDefinition(tool);
      const digest = toolDigest(definition);
      const pin = await this.deps.pins.check(server, tool.name, digest);
      if (pin.status === 'changed') this.deps.audit.definitionChanged(server, tool.name, pin.pinned, digest);
      tools.set(tool.name, {
        server,
        tool: tool.name,
        definition,
        status: pin.status === 'changed' ? 'changed' : 'ok',
      });
    }
    return tools;
  }
}
