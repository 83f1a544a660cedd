import type { AgentContext, BlueprintRef, BundleRef, OcsfEvent } from '../../audit/index.ts';
import type { Logger } from '../../core/index.ts';
import type { ReviewGate, ReviewGateSpec, ReviewUser, ToolArgumentLogging } from '../../policy/index.ts';
import type { SecretStore } from '../egress/index.ts';
import type { ToolPinStore } from './tool-pins.ts';
import type { StdioLauncher } from './upstream-stdio.ts';

// The MCP gateway's vocabulary: the servers it fronts, the decision it asks for each tool call,
// and what it is given by the supervisor (docs/mcp.md).

/** How the gateway reaches one MCP server (a service's spec.mcp, with the service's credential). */
export type McpConnection =
  | {
      readonly transport: 'stdio';
      /** argv; PATH is searched inside the server's sandbox. */
      readonly command: readonly string[];
      readonly env?: Readonly<Record<string, string>>;
      /** Variable that receives the credential's placeholder. */
      readonly credentialEnv?: string;
      /** Host paths the server's sandbox may read. */
      readonly read?: readonly string[];
    }
  | { readonly transport: 'http'; readonly url: string };

/** One server the gateway fronts, as the blueprint allows it. */
export interface McpServerPlan {
  /** The service name, e.g. `github`: the PDP's `server` and the audit's api.service.name. */
  readonly name: string;
  /** Tools of this server the blueprint allows (spec.tools.mcp[].allow). Empty: none. */
  readonly allow: readonly string[];
  /** Put before each tool name the agent sees. Default `NAME__`. */
  readonly toolPrefix: string;
  readonly connection: McpConnection;
  /** Secret name (the service's credential): injected into HTTP requests, or by a stdio server's egress. */
  readonly credential?: string;
  /** Header for the credential. Default authorization, as `Bearer SECRET`. */
  readonly credentialHeader?: string;
  /** A stdio server's egress allowlist: the service's hosts, ports and rules. Omitted: no network. */
  readonly egress?: {
    readonly hosts: readonly string[];
    readonly ports?: readonly number[];
    readonly access?: 'read-only' | 'read-write' | 'full';
    readonly rules?: readonly { readonly methods: readonly string[]; readonly paths: readonly string[] }[];
    readonly cidrs?: readonly string[];
  };
}

/** The PDP request for one tool call (DESIGN.md §4, action mcp_call); the policy plane's McpCallRequest. */
export interface McpCallRequest {
  readonly action: 'mcp_call';
  readonly server: string;
  readonly tool: string;
  /** The call's arguments exactly as the agent sent them (a JSON object). */
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** The PDP's answer (the policy plane's PolicyDecision fits). `review`: a permit held until a review gate resolves. */
export interface McpPolicyDecision {
  readonly decision: 'allow' | 'deny' | 'review';
  /** Ids of the policies that decided; empty when nothing matched (default deny). */
  readonly policyIds: readonly string[];
  /** Machine-readable reason, e.g. `tool_allowed`, `no_matching_permit`. */
  readonly reason: string;
  /** Operator-readable explanation, shown to the agent on deny. Default: the reason's meaning. */
  readonly message?: string;
  /** The bundle that decided; recorded in the audit event. Default: the context's bundle. */
  readonly bundle?: BundleRef;
}

/**
 * The decision point. A throw or a rejection is a deny (fail closed).
 * @example const pdp = createDecisionPoint(bundle, { principal }); const decide: McpDecide = (request) => pdp.decide(request);
 */
export type McpDecide = (request: McpCallRequest) => McpPolicyDecision | Promise<McpPolicyDecision>;

/** Who and which policy: read at each event, so a new bundle shows at once. */
export interface McpEventContext extends AgentContext {
  readonly bundle: BundleRef;
  readonly blueprint?: BlueprintRef;
}

/** Resource bounds of the gateway; each has a default. */
export interface McpGatewayLimits {
  /** Agent connections at once (socket and HTTP together). Default 16. */
  readonly maxSessions: number;
  /** An HTTP session unused this long is closed, with its servers. Default 1 800 000 (30 min). */
  readonly sessionIdleMs: number;
  /** Longest a tool call may run upstream. Default 600 000 (10 min). */
  readonly callTimeoutMs: number;
  /** Longest a server may take to start and initialize. Default 30 000. */
  readonly connectTimeoutMs: number;
  /** Largest JSON of one call's arguments. Default 1 048 576 (1 MiB). */
  readonly maxArgumentBytes: number;
  /** Tools listed per server at most (the rest are withheld and logged). Default 1000. */
  readonly maxToolsPerServer: number;
}

/** What the supervisor gives the gateway. */
export interface McpGatewayOptions {
  readonly servers: readonly McpServerPlan[];
  readonly decide: McpDecide;
  /** Holds `review` calls. Without one, a `review` decision is a deny (fail closed). */
  readonly reviews?: ReviewGate;
  /** The blueprint's reviewGates, for held calls. Without it, a `review` decision is a deny. */
  readonly reviewGate?: ReviewGateSpec;
  /** The user whose agent this is (never its own reviewer). Default: the context's user. */
  readonly requester?: ReviewUser;
  /** Receives every API Activity and Detection Finding event. Must not throw. */
  readonly onEvent: (event: OcsfEvent) => void;
  readonly context: () => McpEventContext;
  /** How arguments appear in events (the blueprint's logging). Default: redacted, no patterns. */
  readonly logging?: ToolArgumentLogging;
  /** Secrets for credentialed servers; without a store, such servers fail to connect. */
  readonly secrets?: SecretStore;
  /** Tool definition pins. Default: in memory (pins last as long as the gateway). */
  readonly pins?: ToolPinStore;
  /** Starts stdio servers. Default: each in its own sandbox (sandboxedStdioLauncher). */
  readonly launchStdio?: StdioLauncher;
  readonly limits?: Partial<McpGatewayLimits>;
  readonly logger?: Logger;
}
