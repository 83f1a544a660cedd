import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { OcsfEvent } from '../../src/audit/index.ts';
import { createLogger } from '../../src/core/index.ts';
import { compilePolicyBundle, createDecisionPoint } from '../../src/policy/index.ts';
import {
  createMcpGateway,
  type McpDecide,
  type McpGateway,
  type McpGatewayOptions,
  type McpServerPlan,
} from '../../src/supervisor/index.ts';
import { POLICY_PROTECTED_PATHS } from '../../src/policy/index.ts';

// Test support for the MCP gateway: a gateway over real MCP servers, reached by a real SDK
// Client over Streamable HTTP on loopback, with every audit event and log line collected.

export const CONTEXT = {
  workspaceId: 'ws-mcp',
  sessionId: 'session-mcp',
  bundle: { id: 'bundle-mcp', version: '7' },
  blueprint: { name: 'code-review', version: '1.3.0' },
  user: { uid: 'ada@example.com', name: 'ada' },
} as const;

/** The servers' allowed tools in these tests (drop_database and environment are never allowed). */
export const ALLOWED = ['echo', 'read_file', 'create_issue', 'count_files', 'slow_task', 'change_echo'];

/** The extra policies of the test bundle: an argument check and a review gate, as operators write them. */
export const EXTRA_POLICIES = `@id("no-etc-reads")
@reason("path_forbidden")
forbid (principal, action == Action::"mcp_call", resource)
when { context.tool == "read_file" && context.arguments like "*\\"path\\":\\"/etc/*" };

@id("issues-need-review")
@review("required")
permit (principal, action == Action::"mcp_call", resource)
when { context.tool == "create_issue" };
`;

/**
 * The real decision point (Cedar bundle compiled from a blueprint) for servers that allow
 * ALLOWED: read_file under /etc is forbidden on its arguments, create_issue needs review.
 */
export function testDecide(
  servers: readonly string[] = ['github'],
  allow: readonly string[] = ALLOWED,
): McpDecide {
  const bundle = compilePolicyBundle({
    blueprint: {
      name: CONTEXT.blueprint.name,
      version: CONTEXT.blueprint.version,
      mcp: servers.map((server) => ({ server, allow })),
    },
    protectedPaths: POLICY_PROTECTED_PATHS,
    extraPolicies: [{ file: 'policies/mcp.cedar', text: EXTRA_POLICIES }],
    bundle: { id: CONTEXT.bundle.id, version: CONTEXT.bundle.version },
  });
  const pdp = createDecisionPoint(bundle, {
    principal: { session: CONTEXT.sessionId, user: CONTEXT.user.uid },
  });
  return (request) => pdp.decide(request);
}

export function httpPlan(name: string, url: string, extra: Partial<McpServerPlan> = {}): McpServerPlan {
  return { name, allow: ALLOWED, toolPrefix: `${name}__`, connection: { transport: 'http', url }, ...extra };
}

export interface GatewayHarness {
  readonly gateway: McpGateway;
  readonly url: string;
  readonly token: string;
  readonly events: OcsfEvent[];
  readonly logs: string[];
  /** A new SDK Client connected to the gateway's HTTP endpoint. */
  client(): Promise<Client>;
  close(): Promise<void>;
}

export async function startGateway(
  options: Partial<McpGatewayOptions> & Pick<McpGatewayOptions, 'servers'>,
): Promise<GatewayHarness> {
  const events: OcsfEvent[] = [];
  const logs: string[] = [];
  const token = 'test-agent-token';
  const gateway = createMcpGateway({
    decide: testDecide(options.servers.map((server) => server.name)),
    onEvent: (event) => events.push(event),
    context: () => CONTEXT,
    logger: createLogger('mcp', { level: 'debug', write: (line) => logs.push(line) }),
    ...options,
  });
  const endpoint = await gateway.listenHttp({ host: '127.0.0.1', port: 0, token });
  const clients: Client[] = [];
  return {
    gateway,
    url: endpoint.url,
    token,
    events,
    logs,
    async client() {
      const client = new Client({ name: 'test-agent', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(endpoint.url), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) await client.close().catch(() => {});
      await gateway.close();
    },
  };
}

/** The text of a tool result's first content item. */
export function textOf(result: unknown): string {
  const content = (result as CallToolResult).content;
  const first = content[0];
  return first && first.type === 'text' ? first.text : '';
}

/** Events of one name (metadata.event_code). */
export function eventsNamed(events: readonly OcsfEvent[], name: string): OcsfEvent[] {
  return events.filter((event) => event.metadata.event_code === name);
}
