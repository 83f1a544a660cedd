import { createLogger, type Logger } from '../../core/index.ts';

// Every log line the MCP gateway writes, in one place so they can be reviewed together. Fields
// come from an allowlist: server and tool names, digests, session counts, error messages. Never
// tool arguments, results, headers or credentials. The agent's faults log at info, a server's at
// info or warn, our own at error.

export interface McpLog {
  upstreamFailed(server: string, error: string): void;
  definitionChanged(fields: { server: string; tool: string; pinned: string; seen: string }): void;
  tooManyTools(server: string, limit: number): void;
  decisionFailed(server: string, tool: string, error: string): void;
  reviewFailed(server: string, tool: string, error: string): void;
  auditFailed(error: string): void;
  sessionRefused(endpoint: string, open: number, limit: number): void;
  requestRefused(fields: { endpoint: string; reason: string; host?: string; origin?: string }): void;
  sessionFailed(endpoint: string, error: string): void;
  listening(endpoint: string, address: string): void;
}

export function createMcpLog(logger: Logger = createLogger('mcp')): McpLog {
  return {
    upstreamFailed: (server, error) => logger.info({ server, error }, 'mcp server unavailable'),
    definitionChanged: (fields) =>
      logger.warn(fields, 'mcp tool definition changed since it was pinned; tool withheld'),
    tooManyTools: (server, limit) =>
      logger.warn({ server, limit }, 'mcp server lists more tools than the limit; the rest are withheld'),
    decisionFailed: (server, tool, error) =>
      logger.error({ server, tool, error }, 'policy decision failed; call denied'),
    reviewFailed: (server, tool, error) =>
      logger.error({ server, tool, error }, 'review gate failed; call denied'),
    auditFailed: (error) => logger.error({ error }, 'audit event sink failed; event lost'),
    sessionRefused: (endpoint, open, limit) =>
      logger.warn({ endpoint, open, limit }, 'mcp session limit reached; connection refused'),
    requestRefused: (fields) => logger.info(fields, 'mcp http request refused'),
    sessionFailed: (endpoint, error) => logger.error({ endpoint, error }, 'mcp session failed'),
    listening: (endpoint, address) => logger.info({ endpoint, address }, 'mcp gateway endpoint ready'),
  };
}
