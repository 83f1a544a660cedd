import { PaddockError } from '../../core/index.ts';
import type { McpServerPlan } from './types.ts';

// Namespacing. The agent sees every allowed tool as PREFIX + TOOL, the prefix being the
// service's spec.mcp.toolPrefix (default `SERVER__`, e.g. `github__get_issue`). One server can
// then never shadow another's tool, and the name alone tells the gateway where a call goes.
// Only allowed tools are ever exposed, and allow lists are static, so the whole table is known
// before any server is reached: a collision is a configuration error, found at start.

/** Longest tool name MCP clients accept (SEP-986). */
export const MAX_TOOL_NAME_LENGTH = 128;

/** Where an exposed name leads. */
export interface ToolAddress {
  readonly server: string;
  /** The tool's name on its server. */
  readonly tool: string;
}

/** The exposed-name table of one gateway. */
export interface ToolNames {
  /** The server and tool an exposed name stands for; undefined for a name the blueprint does not allow. */
  resolve(exposed: string): ToolAddress | undefined;
  /** The name the agent sees for a tool of a server. */
  expose(server: string, tool: string): string;
  /** Whether the blueprint allows this tool of this server. */
  allows(server: string, tool: string): boolean;
}

/**
 * Builds the table from the planned servers. Throws PDK_MCP_CONFIG_INVALID when two allowed
 * tools would share a name, a name is too long, or a server appears twice.
 * @example toolNames([{ name: 'github', toolPrefix: 'github__', allow: ['get_issue'], … }]).resolve('github__get_issue')
 * // { server: 'github', tool: 'get_issue' }
 */
export function toolNames(servers: readonly McpServerPlan[]): ToolNames {
  const byName = new Map<string, ToolAddress>();
  const prefixes = new Map<string, string>();
  const problems: string[] = [];
  for (const server of servers) {
    if (prefixes.has(server.name)) {
      problems.push(`server "${server.name}" is listed twice`);
      continue;
    }
    prefixes.set(server.name, server.toolPrefix);
    for (const tool of new Set(server.allow)) {
      const exposed = `${server.toolPrefix}${tool}`;
      const other = byName.get(exposed);
      if (other) {
        problems.push(
          `tool "${tool}" of "${server.name}" and tool "${other.tool}" of "${other.server}" are both exposed as "${exposed}": give one server a distinct spec.mcp.toolPrefix`,
        );
        continue;
      }
      if (exposed.length > MAX_TOOL_NAME_LENGTH) {
        problems.push(
          `tool "${tool}" of "${server.name}" would be exposed as a name of ${exposed.length} characters (at most ${MAX_TOOL_NAME_LENGTH}): shorten spec.mcp.toolPrefix`,
        );
        continue;
      }
      byName.set(exposed, { server: server.name, tool });
    }
  }
  if (problems.length > 0) {
    throw new PaddockError('PDK_MCP_CONFIG_INVALID', `MCP gateway: ${problems.join('; ')}`, {
      details: problems,
    });
  }
  return {
    resolve: (exposed) => byName.get(exposed),
    expose: (server, tool) => `${prefixes.get(server) ?? `${server}__`}${tool}`,
    allows: (server, tool) => byName.get(`${prefixes.get(server)}${tool}`)?.server === server,
  };
}
