import { type CallToolResult, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { BundleRef } from '../../audit/index.ts';
import type { ReviewGate, ReviewGateSpec, ReviewUser, ToolArgumentLogging } from '../../policy/index.ts';
import type { CallRecord, McpAudit } from './mcp-audit.ts';
import type { McpLog } from './log.ts';
import {
  changedDefinitionText,
  deniedText,
  notAllowedText,
  oversizedText,
  type RefusalDetails,
  refusal,
  unavailableText,
} from './tool-errors.ts';
import type { ToolNames } from './tool-names.ts';
import { decideSafely, holdForReview } from './call-outside.ts';
import type { McpDecide, McpEventContext, McpServerPlan } from './types.ts';
import type { OfferedTool, UpstreamSet } from './upstream-set.ts';

// Every tools/call, before anything reaches a server:
//   1. the name must be an allowed tool of a fronted server (the blueprint's allow list);
//   2. the arguments must fit the size limit;
//   3. the PDP decides on server, tool and the exact arguments (a throw is a deny);
//   4. the server must offer the tool with the definition pinned at first sight;
//   5. a `review` decision goes to the review gate: approved once, pending, or denied.
// Each refusal is audited (API Activity 6003) and answered as a tool error the agent can act on.

export interface CallCheckDeps {
  readonly servers: readonly McpServerPlan[];
  readonly names: ToolNames;
  readonly decide: McpDecide;
  readonly reviews?: ReviewGate;
  readonly reviewGate?: ReviewGateSpec;
  readonly requester?: ReviewUser;
  /** How the review request records the arguments (the blueprint's logging). */
  readonly logging?: ToolArgumentLogging;
  readonly context: () => McpEventContext;
  readonly audit: McpAudit;
  readonly log: McpLog;
  readonly maxArgumentBytes: number;
}

export interface ToolCall {
  /** The exposed name the agent called. */
  readonly name: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly requestId: string;
}

/** Longest agent-supplied tool name recorded in an event. */
const MAX_RECORDED_NAME = 256;

/** Forward the call (the allow is audited by the caller once it is sent), or answer with `result`. */
export type CallVerdict =
  | { readonly forward: true; readonly offered: OfferedTool; readonly record: CallRecord }
  | { readonly forward: false; readonly result: CallToolResult };

/** Runs the checks above for one call. Throws McpError(InvalidParams) for a name no server has. */
export async function checkCall(
  deps: CallCheckDeps,
  upstreams: UpstreamSet,
  call: ToolCall,
): Promise<CallVerdict> {
  const address = deps.names.resolve(call.name);
  const bytes = Buffer.byteLength(JSON.stringify(call.arguments));
  // Oversized arguments are not recorded (the audit trail is bounded too).
  const base = { requestId: call.requestId, arguments: bytes > deps.maxArgumentBytes ? {} : call.arguments };
  if (!address) {
    const server = deps.servers
      .filter((candidate) => candidate.toolPrefix !== '' && call.name.startsWith(candidate.toolPrefix))
      .sort((a, b) => b.toolPrefix.length - a.toolPrefix.length)[0];
    if (!server) {
      deps.audit.call({
        ...base,
        server: 'unknown',
        tool: call.name.slice(0, MAX_RECORDED_NAME),
        decision: 'deny',
        reasonCode: 'unknown_tool',
      });
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${call.name}`);
    }
    const tool = call.name.slice(server.toolPrefix.length, server.toolPrefix.length + MAX_RECORDED_NAME);
    deps.audit.call({ ...base, server: server.name, tool, decision: 'deny', reasonCode: 'tool_not_allowed' });
    return refuse(
      notAllowedText(call.name),
      {
        decision: 'deny',
        reason: 'tool_not_allowed',
        tool: call.name,
        server: server.name,
        retry: 'do-not-retry',
      },
      false,
    );
  }
  const { server, tool } = address;
  // Set once the PDP answered: the events name the bundle that decided.
  let bundle: BundleRef | undefined;
  const record = (decision: CallRecord['decision'], reasonCode: string, extra: Partial<CallRecord> = {}) =>
    deps.audit.call({ ...base, server, tool, decision, reasonCode, ...(bundle ? { bundle } : {}), ...extra });
  const details = { tool: call.name, server };
  // The agent's client validates structured content of tools it listed with an output schema.
  const listedWithSchema = upstreams.cachedTool(server, tool)?.definition.outputSchema !== undefined;

  if (bytes > deps.maxArgumentBytes) {
    record('deny', 'arguments_too_large');
    return refuse(
      oversizedText(call.name, bytes, deps.maxArgumentBytes),
      { ...details, decision: 'deny', reason: 'arguments_too_large', retry: 'do-not-retry' },
      listedWithSchema,
    );
  }

  const decision = await decideSafely(deps, { action: 'mcp_call', server, tool, arguments: call.arguments });
  const rule = decision.policyIds[0];
  bundle = decision.bundle;
  if (decision.decision === 'deny') {
    record('deny', decision.reason, { reason: decision.message, ruleId: rule });
    return refuse(
      deniedText(call.name, decision.message ?? decision.reason, decision.policyIds),
      {
        ...details,
        decision: 'deny',
        reason: decision.reason,
        rule,
        policyIds: decision.policyIds,
        retry: 'do-not-retry',
      },
      listedWithSchema,
    );
  }

  let offered: OfferedTool | undefined;
  try {
    offered = (await upstreams.toolsOf(server)).get(tool);
  } catch (error) {
    record('deny', 'server_unavailable', { reason: (error as Error).message });
    return refuse(
      unavailableText(call.name, server, 'is unavailable'),
      { ...details, decision: 'deny', reason: 'server_unavailable', retry: 'retry-later' },
      listedWithSchema,
    );
  }
  if (!offered) {
    record('deny', 'tool_not_offered', { reason: `${server} does not list ${tool}` });
    return refuse(
      unavailableText(call.name, server, 'does not offer this tool now'),
      { ...details, decision: 'deny', reason: 'tool_not_offered', retry: 'retry-later' },
      listedWithSchema,
    );
  }
  const hasOutputSchema = offered.definition.outputSchema !== undefined;
  if (offered.status === 'changed') {
    record('deny', 'tool_definition_changed', { reason: 'definition differs from its pin' });
    return refuse(
      changedDefinitionText(call.name),
      { ...details, decision: 'deny', reason: 'tool_definition_changed', retry: 'do-not-retry' },
      hasOutputSchema,
    );
  }
  if (decision.decision === 'allow') {
    return {
      forward: true,
      offered,
      record: { ...base, server, tool, bundle, decision: 'allow', reasonCode: decision.reason, ruleId: rule },
    };
  }

  // review
  const answer = await holdForReview(deps, call, server, tool, decision);
  if (!answer) {
    record('deny', 'review_unavailable', {
      ruleId: rule,
      reason: 'the call needs review and the gateway has no review queue',
    });
    return refuse(
      deniedText(
        call.name,
        'it needs human review and this workspace has no review queue',
        decision.policyIds,
      ),
      {
        ...details,
        decision: 'deny',
        reason: 'review_unavailable',
        rule,
        policyIds: decision.policyIds,
        retry: 'do-not-retry',
      },
      hasOutputSchema,
    );
  }
  const correlationUid = answer.reviewId;
  if (answer.status === 'approved') {
    return {
      forward: true,
      offered,
      record: {
        ...base,
        server,
        tool,
        bundle,
        decision: 'allow',
        reasonCode: 'review_approved',
        ruleId: rule,
        correlationUid,
        reason: answer.message,
      },
    };
  }
  if (answer.status === 'denied') {
    record('deny', 'review_denied', { ruleId: rule, correlationUid, reason: answer.message });
    return refuse(
      answer.message,
      {
        ...details,
        decision: 'deny',
        reason: 'review_denied',
        rule,
        policyIds: decision.policyIds,
        reviewId: answer.reviewId,
        retry: 'do-not-retry',
      },
      hasOutputSchema,
    );
  }
  record('review', 'review_pending', { ruleId: rule, correlationUid, reason: answer.message });
  return refuse(
    answer.message,
    {
      ...details,
      decision: 'review',
      reason: 'review_pending',
      rule,
      policyIds: decision.policyIds,
      reviewId: answer.reviewId,
      expiresAt: answer.expiresAt,
      retry: 'retry-identical-call-after-approval',
    },
    hasOutputSchema,
  );
}

function refuse(text: string, details: RefusalDetails, hasOutputSchema: boolean): CallVerdict {
  return { forward: false, result: refusal(text, details, hasOutputSchema) };
}
