import { buildEvent } from './base.ts';
import { decisionEventName } from './catalog.ts';
import { API_ACTIVITY } from './classes.ts';
import { bundlePolicy, decisionFields, type ReviewOutcome, reviewOutcomeFields } from './decision.ts';
import { endpointObject, paddockActor, sandboxEndpoint, userObject } from './objects.ts';
import type {
  AgentContext,
  AuditContext,
  AuditEndpoint,
  AuditUser,
  BundleRef,
  DecisionInput,
  OcsfEvent,
} from './types.ts';

// API Activity (6003): MCP tool calls through the MCP gateway, and reviewers resolving held
// actions through the control plane's review inbox.

/** CRUD class of a tool, when the blueprint or server annotates it; otherwise activity 99. */
export type ApiOperationKind = 'create' | 'read' | 'update' | 'delete';

const ACTIVITY: Readonly<Record<ApiOperationKind, number>> = { create: 1, read: 2, update: 3, delete: 4 };

export interface McpDecisionInput extends AgentContext, DecisionInput {
  /** The MCP server as the blueprint names it, e.g. `github`. */
  readonly server: string;
  /** The tool called, e.g. `create_pending_review`. */
  readonly tool: string;
  /** What the tool does to data. Default: unknown (activity 99 "Tool Call"). */
  readonly kind?: ApiOperationKind;
  /** The JSON-RPC request id, to match gateway logs. */
  readonly requestId?: string;
  /**
   * The call's arguments as the blueprint's `logging.toolArguments` lets them be recorded (full,
   * redacted, or omitted for none); becomes `api.request.data`. The caller redacts.
   */
  readonly arguments?: unknown;
}

/**
 * `mcp.allowed`, `mcp.denied` or `mcp.review_requested` for one tool call.
 * @example mcpDecisionEvent({ workspaceId, sessionId, decision: 'allow', reasonCode: 'tool_allowed', bundle,
 *   server: 'github', tool: 'get_pull_request', kind: 'read' })
 */
export function mcpDecisionEvent(input: McpDecisionInput): OcsfEvent {
  const activityId = input.kind ? ACTIVITY[input.kind] : 99;
  return buildEvent(API_ACTIVITY, decisionEventName('mcp', input.decision), activityId, input, {
    ...(activityId === 99 ? { activity_name: 'Tool Call' } : {}),
    api: {
      operation: input.tool,
      service: { name: input.server },
      // OCSF requires request.uid; a call logged without a JSON-RPC id gets the event's own uid.
      request:
        input.requestId === undefined && input.arguments === undefined
          ? undefined
          : { uid: input.requestId ?? input.uid ?? 'unknown', data: input.arguments },
    },
    src_endpoint: sandboxEndpoint(input.workspaceId),
    dst_endpoint: { svc_name: input.server },
    ...decisionFields(input),
  });
}

export interface HarnessToolDecisionInput extends AgentContext, DecisionInput {
  /** The tool as the harness names it, e.g. `TodoWrite`; null when the input named none. */
  readonly tool: string | null;
  /** The agent harness, e.g. `claude-code`; becomes api.service.name. */
  readonly harness: string;
}

/**
 * `tool.allowed` or `tool.denied`: a harness tool call the hook server decided itself that names
 * no resource another class describes (a todo list, a web search, input it could not read).
 * @example harnessToolEvent({ workspaceId, sessionId, decision: 'deny', reasonCode: 'tool_unsupported',
 *   bundle, harness: 'claude-code', tool: 'NewTool' })
 */
export function harnessToolEvent(input: HarnessToolDecisionInput): OcsfEvent {
  // A harness tool call is never held for review here; only exec calls are asked about.
  const event = input.decision === 'allow' ? 'tool.allowed' : 'tool.denied';
  return buildEvent(API_ACTIVITY, event, 99, input, {
    activity_name: 'Tool Call',
    api: { operation: input.tool ?? '(unknown)', service: { name: input.harness } },
    src_endpoint: sandboxEndpoint(input.workspaceId),
    ...decisionFields({ ...input, decision: input.decision === 'allow' ? 'allow' : 'deny' }),
  });
}

interface ReviewCommon extends AuditContext {
  /** The review request's id; also the default correlation uid, shared with the `*.review_requested` event. */
  readonly reviewId: string;
  /** The user whose agent's action was held. */
  readonly requester?: AuditUser;
  /** One line naming the held action, e.g. `POST https://api.github.com/repos/o/r/pulls/1/reviews`. */
  readonly heldAction: string;
  /** The bundle whose review gate held the action. */
  readonly bundle: BundleRef;
  /** The reviewer's client address, as the control plane saw it. Default: the control plane itself. */
  readonly source?: AuditEndpoint;
  /** The reviewer's comment; becomes `status_detail`. */
  readonly comment?: string;
}

/** A reviewer decided (`reviewer` is the actor), or the review timed out (Paddock is the actor). */
export type ReviewResolvedInput =
  | (ReviewCommon & { readonly outcome: 'approved' | 'rejected'; readonly reviewer: AuditUser })
  | (ReviewCommon & {
      readonly outcome: 'expired';
      /** What the gate's onTimeout applied. Default `deny`. */
      readonly onTimeout?: 'allow' | 'deny';
    });

const OPERATION: Readonly<Record<ReviewOutcome, string>> = {
  approved: 'review.approve',
  rejected: 'review.reject',
  expired: 'review.expire',
};

const REVIEW_EVENT = {
  approved: 'review.approved',
  rejected: 'review.rejected',
  expired: 'review.expired',
} as const;

/**
 * `review.approved`, `review.rejected` or `review.expired` (activity Update on the review):
 * approved maps to action Allowed / disposition Approved, rejected to Denied / Rejected, expired
 * to the onTimeout decision. Carries the bundle whose gate held the action.
 */
export function reviewResolvedEvent(input: ReviewResolvedInput): OcsfEvent {
  const reviewer = input.outcome === 'expired' ? undefined : input.reviewer;
  const onTimeout = input.outcome === 'expired' ? (input.onTimeout ?? 'deny') : 'deny';
  return buildEvent(
    API_ACTIVITY,
    REVIEW_EVENT[input.outcome],
    3,
    { ...input, correlationUid: input.correlationUid ?? input.reviewId },
    {
      actor: reviewer
        ? { user: userObject(reviewer), session: input.sessionId ? { uid: input.sessionId } : undefined }
        : paddockActor('control plane'),
      api: {
        operation: OPERATION[input.outcome],
        service: { name: 'Paddock review inbox' },
        request: { uid: input.reviewId },
      },
      src_endpoint: input.source ? endpointObject(input.source) : { name: 'Paddock control plane' },
      resources: [
        {
          uid: input.reviewId,
          name: input.heldAction,
          type: 'Paddock review',
          owner: input.requester && userObject(input.requester),
        },
      ],
      policy: bundlePolicy(input.bundle),
      ...reviewOutcomeFields(input.outcome, onTimeout),
      status_detail: input.comment,
    },
  );
}
