import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

// The answers the agent gets when the gateway does not forward a call. They are tool results
// with isError (not JSON-RPC errors), so the model reads them and can act: the text says what
// happened and the one thing to do next; the structured part names the decision, the reason code
// and the rule for programs. Clients validate structuredContent against a tool's outputSchema even
// on errors, so for such tools the structured part travels only in _meta.

/** `_meta` key of the gateway's structured answer. */
export const DECISION_META_KEY = 'dev.paddock/decision';

/** The machine-readable part of a refusal. */
export interface RefusalDetails {
  readonly decision: 'deny' | 'review';
  /** E.g. `policy_denied`, `tool_not_allowed`, `tool_definition_changed`, `review_pending`. */
  readonly reason: string;
  /** The exposed tool name the agent called. */
  readonly tool: string;
  readonly server?: string;
  /** The policy that decided, when one did (the first of `policyIds`). */
  readonly rule?: string;
  readonly policyIds?: readonly string[];
  readonly reviewId?: string;
  /** ISO 8601, for a pending review. */
  readonly expiresAt?: string;
  /** What to do next, in a few words: `do-not-retry`, `retry-identical-call-after-approval`, `retry-later`. */
  readonly retry: 'do-not-retry' | 'retry-identical-call-after-approval' | 'retry-later';
}

/** A tool error result carrying `text` and the structured details. */
export function refusal(text: string, details: RefusalDetails, hasOutputSchema: boolean): CallToolResult {
  const structured = { paddock: details };
  return {
    isError: true,
    content: [{ type: 'text', text }],
    ...(hasOutputSchema ? {} : { structuredContent: structured }),
    _meta: { [DECISION_META_KEY]: details },
  };
}

/** The text for a call the PDP denied: the policy, and its message or else its reason code. */
export function deniedText(tool: string, why: string, policyIds: readonly string[]): string {
  const rule = policyIds.length > 0 ? ` (policy ${policyIds.join(', ')})` : ' (no policy permits it)';
  return `Paddock denied this call to ${tool}${rule}: ${why}. Do not retry the identical call; it will be denied again. Ask the user if the task needs it.`;
}

/** The text for a tool the blueprint does not allow. */
export function notAllowedText(tool: string): string {
  return `Paddock denied this call: ${tool} is not a tool this workspace's blueprint allows. Use only the tools tools/list returns.`;
}

/** The text for an allowed tool whose definition changed after it was pinned. */
export function changedDefinitionText(tool: string): string {
  return `Paddock blocked ${tool}: its server changed the tool's description or input schema since it was approved, so it is withheld until an operator reviews the change. Do not retry; continue without this tool and tell the user.`;
}

/** The text for a server that cannot be reached (or does not offer the tool). */
export function unavailableText(tool: string, server: string, why: string): string {
  return `Paddock could not forward this call to ${tool}: MCP server "${server}" ${why}. Retry later, or continue without it.`;
}

/** The text for arguments over the size limit. */
export function oversizedText(tool: string, bytes: number, limit: number): string {
  return `Paddock refused this call to ${tool}: its arguments are ${bytes} bytes of JSON, over the ${limit}-byte limit. Send smaller arguments.`;
}
