export { HOOK_CLIENT_TIMEOUT_MS, HOOK_NAME, HOOK_SOCKET_PATH, MAX_HOOK_INPUT_BYTES } from './constants.ts';
export { describeRequest, evaluateEvent } from './evaluate.ts';
export type { EvaluateOptions } from './evaluate.ts';
export { ADAPTERS, handleHookInput } from './handle.ts';
export type { HandledHook } from './handle.ts';
export { startHookServer } from './hook-server.ts';
export type { HookServer, HookServerOptions } from './hook-server.ts';
export { writeManagedSettings } from './install.ts';
export { ensureHookClient } from './native-client.ts';
export { hookCommand, MCP_SERVER_NAME, managedSettingsFiles } from './managed-settings.ts';
export type { HookCommandOptions, ManagedFile, ManagedMount, McpShimCommand } from './managed-settings.ts';
export { planRequests } from './requests.ts';
export type { PlannedRequest, PlanOptions, RequestPlan } from './requests.ts';
export { analyzeShell, MAX_EXECS } from './shell/analyze.ts';
export type { AnalyzeOptions, ShellAnalysis, ShellEffects, ShellExec } from './shell/analyze.ts';
export { HARNESSES, HookInputError } from './types.ts';
export type {
  DecideFn,
  Harness,
  HarnessAdapter,
  HookAnswer,
  HookDecision,
  HookEvent,
  HookPhase,
  LocalDecision,
  LocalReason,
  ToolCall,
  Verdict,
} from './types.ts';
export { createPdpClient } from './pdp-client.ts';
export type { PdpClient, PdpClientOptions } from './pdp-client.ts';
export { localDecisionEvent } from './local-audit.ts';
export type { LocalAuditContext, LocalRedact } from './local-audit.ts';
