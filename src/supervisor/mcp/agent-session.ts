import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  type LoggingLevel,
  LoggingLevelSchema,
  ListToolsRequestSchema,
  McpError,
  type ServerNotification,
  SetLevelRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { PRODUCT_VERSION } from '../../core/index.ts';
import { type CallCheckDeps, checkCall } from './call-check.ts';
import { refusal, unavailableText } from './tool-errors.ts';
import { type UpstreamDeps, UpstreamSet } from './upstream-set.ts';

// ONE agent connection (a shim on the unix socket, or a Streamable HTTP session): an MCP server
// that offers exactly the allowed, pinned tools of the fronted servers under their exposed
// names, checks every call (call-check.ts) and forwards what passes to the session's own
// upstream connections. Only tools and logging are offered: resources, prompts and completions
// have no policy vocabulary yet, so they are not proxied (docs/mcp.md).

/** What every session of one gateway shares. */
export interface SessionDeps extends CallCheckDeps, UpstreamDeps {
  readonly callTimeoutMs: number;
}

export interface AgentSession {
  /** Connect it to a transport: `await session.server.connect(transport)`. */
  readonly server: Server;
  /** Stops the session's upstream servers and closes its transport. */
  close(): Promise<void>;
}

const SEVERITY = LoggingLevelSchema.options;

/** The notifications of one call in flight, sent on its stream; drained before its result goes out. */
class CallStream {
  private readonly pending: Promise<void>[] = [];
  private readonly notify: (notification: ServerNotification) => Promise<void>;

  constructor(notify: (notification: ServerNotification) => Promise<void>) {
    this.notify = notify;
  }

  send(notification: ServerNotification): void {
    this.pending.push(this.notify(notification).catch(() => {}));
  }

  /** Resolves once every notification sent so far is out, so none trails the result. */
  async drain(): Promise<void> {
    await Promise.all(this.pending);
  }
}

/** `onClosed` runs once the session has closed (the gateway's session budget). */
export function createAgentSession(deps: SessionDeps, onClosed: () => void = () => {}): AgentSession {
  const server = new Server(
    { name: 'paddock-mcp-gateway', title: 'Paddock MCP gateway', version: PRODUCT_VERSION },
    { capabilities: { tools: { listChanged: true }, logging: {} } },
  );
  let level: LoggingLevel | undefined;
  // Calls in flight per server: a server's log message goes out on the stream of its latest
  // call, so it reaches the agent before that call's result (on Streamable HTTP, a message
  // unrelated to a request travels on another stream and may arrive after it).
  const inFlight = new Map<string, CallStream[]>();
  const upstreams = new UpstreamSet(deps, {
    onToolsChanged: () => {
      server.sendToolListChanged().catch(() => {});
    },
    onLog: (name, params) => {
      if (level && SEVERITY.indexOf(params.level) < SEVERITY.indexOf(level)) return;
      const message = { ...params, logger: params.logger ? `${name}/${params.logger}` : name };
      const stream = inFlight.get(name)?.at(-1);
      if (stream) stream.send({ method: 'notifications/message', params: message });
      else server.sendLoggingMessage(message).catch(() => {});
    },
  });

  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    level = request.params.level;
    upstreams.setLoggingLevel(level);
    return {};
  });

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const offered = await upstreams.offeredTools();
    const tools: Tool[] = offered
      .filter((tool) => tool.status === 'ok')
      .map((tool) => ({ name: deps.names.expose(tool.server, tool.tool), ...tool.definition }) as Tool);
    return { tools };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const name = request.params.name;
    const args = request.params.arguments ?? {};
    const verdict = await checkCall(deps, upstreams, {
      name,
      arguments: args,
      requestId: String(extra.requestId),
    });
    if (!verdict.forward) return verdict.result;
    deps.audit.call(verdict.record);
    const { server: upstream, tool } = verdict.offered;
    const progressToken = request.params._meta?.progressToken;
    const calls = inFlight.get(upstream) ?? [];
    inFlight.set(upstream, calls);
    const stream = new CallStream(extra.sendNotification);
    calls.push(stream);
    try {
      // Checked again on the connection the call goes to: a server that dropped and came back
      // between the check and the call must not skip the pin check.
      const client = await upstreams.checkedClient(upstream, tool);
      if (!client)
        throw new McpError(ErrorCode.ConnectionClosed, 'the server reconnected without the pinned tool');
      const result = await client.callTool({ name: tool, arguments: args }, CallToolResultSchema, {
        signal: extra.signal,
        timeout: deps.callTimeoutMs,
        resetTimeoutOnProgress: true,
        maxTotalTimeout: deps.callTimeoutMs,
        onprogress:
          progressToken === undefined
            ? undefined
            : (progress) => {
                stream.send({ method: 'notifications/progress', params: { ...progress, progressToken } });
              },
      });
      await stream.drain();
      return result as CallToolResult;
    } catch (error) {
      if (error instanceof McpError && error.code !== ErrorCode.ConnectionClosed) throw error;
      deps.log.upstreamFailed(upstream, (error as Error).message);
      return refusal(
        unavailableText(name, upstream, 'failed while handling the call'),
        { decision: 'deny', reason: 'server_failed', tool: name, server: upstream, retry: 'retry-later' },
        verdict.offered.definition.outputSchema !== undefined,
      );
    } finally {
      calls.splice(calls.indexOf(stream), 1);
    }
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await upstreams.close();
      await server.close().catch(() => {});
      onClosed();
    })();
    return closing;
  };
  server.onclose = () => void close();
  return { server, close };
}
