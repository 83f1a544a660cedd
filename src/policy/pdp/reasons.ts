import type { PolicyAction } from '../cedar/bundle-types.ts';

/**
 * Why a decision came out as it did: a fixed vocabulary carried into audit events (status_code)
 * and answers to the sandbox. Codes are never renamed or reused. An extra policy may name its
 * own code with @reason("…"); it is passed through as written.
 */
export const POLICY_REASONS = {
  // allow (the reason of the first determining permit)
  command_allowed: 'a commands.allow pattern matches the command',
  path_allowed: 'the path is inside a dataScope read or write scope',
  host_allowed: 'a service lists the host and port',
  request_allowed: "the method and path are inside the service's access and rules",
  tool_allowed: "the tool is in the MCP server's allow list",
  policy_permitted: 'an extra policy (policies/*.cedar) permits it',
  // review
  review_required: 'a permit that a review gate covers matched: a person must approve it',
  // deny: a forbid matched
  command_denied: 'a commands.deny pattern matches the command',
  path_denied: 'the path is under a dataScope deny entry',
  path_protected: 'the path is protected (harness config, hooks, shell rc files): never writable',
  policy_forbidden: 'an extra policy (policies/*.cedar) forbids it',
  // deny: nothing permits it (default deny)
  command_not_allowed: 'no commands.allow pattern matches the command',
  path_not_in_scope: 'the path is outside every dataScope scope for this access',
  host_not_allowed: 'no service allows this host and port',
  request_not_allowed: "no service's access and rules allow this method and path",
  tool_not_allowed: "the tool is not in the MCP server's allow list",
  // deny: the request itself
  request_invalid: 'the request is malformed',
  request_too_large: 'the request exceeds a size limit',
  path_invalid: 'the path is not absolute and canonical (no ".", "..", "//" or trailing "/")',
  path_ambiguous:
    'the URL path has dot segments, encoded slashes or backslashes that servers read differently',
  host_invalid: 'the host is not a valid name or canonical IP literal',
  // deny: the engine
  review_unsupported:
    'a review gate matched a connection; connections cannot be held (gate requests instead)',
  policy_error: 'a policy failed to evaluate; Paddock fails closed',
  engine_error: 'the policy engine failed; Paddock fails closed',
  audit_unavailable: 'the decision could not be recorded in the audit trail; Paddock fails closed',
} as const;

export type PolicyReason = keyof typeof POLICY_REASONS;

/** What a default deny (no permit matched) means for each action. */
export const DEFAULT_DENY_REASON: Readonly<Record<PolicyAction, PolicyReason>> = {
  exec: 'command_not_allowed',
  read_file: 'path_not_in_scope',
  write_file: 'path_not_in_scope',
  connect: 'host_not_allowed',
  http_request: 'request_not_allowed',
  mcp_call: 'tool_not_allowed',
};
