export { createMcpGateway, DEFAULT_MCP_LIMITS } from './gateway.ts';
export type { McpGateway } from './gateway.ts';
export type { HttpEndpoint, HttpEndpointOptions } from './http-endpoint.ts';
export type { SocketEndpoint, SocketEndpointOptions } from './socket-endpoint.ts';
export { mcpServerPlans } from './server-plans.ts';
export { MCP_SHIM_SOCKET, runMcpShim } from './shim.ts';
export { ensureMcpShim } from './native-shim.ts';
export type { ShimStreams } from './shim.ts';
export { DECISION_META_KEY } from './tool-errors.ts';
export type { RefusalDetails } from './tool-errors.ts';
export { MAX_TOOL_NAME_LENGTH, toolNames } from './tool-names.ts';
export type { ToolAddress, ToolNames } from './tool-names.ts';
export { filePinStore, memoryPinStore, PINNED_FIELDS, toolDigest } from './tool-pins.ts';
export type { PinCheck, ToolPinStore } from './tool-pins.ts';
export { sandboxedStdioLauncher } from './upstream-stdio.ts';
export type { SandboxedStdioOptions, StdioLauncher } from './upstream-stdio.ts';
export type {
  McpCallRequest,
  McpConnection,
  McpDecide,
  McpEventContext,
  McpGatewayLimits,
  McpGatewayOptions,
  McpPolicyDecision,
  McpServerPlan,
} from './types.ts';
