import type { PolicyAction } from '../cedar/bundle-types.ts';
import type { PolicyReason } from './reasons.ts';

// What the decision point is asked and what it answers (docs/policy.md, "Requests").

/**
 * The agent session asking. The supervisor supplies it (the sandbox cannot): the session is a
 * child of its user and its blueprint, the user a child of its groups.
 */
export interface PolicyPrincipal {
  readonly session: string;
  readonly user: string;
  readonly groups?: readonly string[];
}

interface RequestBase {
  /** Overrides the decision point's default principal. */
  readonly principal?: PolicyPrincipal;
}

/** exec: a command as argv (argv[0] is the program, as typed or as a path). */
export interface ExecRequest extends RequestBase {
  readonly action: 'exec';
  readonly argv: readonly string[];
}

/** read_file / write_file: an absolute, canonical path inside the sandbox. */
export interface FileRequest extends RequestBase {
  readonly action: 'read_file' | 'write_file';
  readonly path: string;
}

/** connect: a TCP destination as the agent named it (name or IP literal). */
export interface ConnectRequest extends RequestBase {
  readonly action: 'connect';
  readonly host: string;
  readonly port: number;
}

/**
 * http_request: a method and either an absolute `url` (`https://host[:port]/path?query`, read
 * without normalization) or its parts. The query never takes part in the decision.
 */
export type HttpRequestRequest = RequestBase & {
  readonly action: 'http_request';
  readonly method: string;
} & ({ readonly url: string } | { readonly host: string; readonly port: number; readonly path: string });

/** mcp_call: a tool of an MCP server as the blueprint names them, with the call's arguments. */
export interface McpCallRequest extends RequestBase {
  readonly action: 'mcp_call';
  readonly server: string;
  readonly tool: string;
  /** Any JSON value; it reaches policies as canonical JSON in `context.arguments`. Default {}. */
  readonly arguments?: unknown;
}

/** One question to the decision point. */
export type DecisionRequest =
  | ExecRequest
  | FileRequest
  | ConnectRequest
  | HttpRequestRequest
  | McpCallRequest;

/** The three answers (DESIGN.md §4). `review`: a permit that a review gate covers. */
export type DecisionKind = 'allow' | 'deny' | 'review';

/** The decision point's answer. Pure data: the same bundle and request always give an equal answer. */
export interface PolicyDecision {
  readonly decision: DecisionKind;
  /** Machine-readable reason (docs/policy.md lists them); becomes the audit event's status_code. */
  readonly reason: PolicyReason | (string & {});
  /**
   * The determining policies: the forbids that matched (deny), the permits that matched (allow,
   * review), the policies that failed to evaluate (policy_error), or none (default deny and
   * malformed requests).
   */
  readonly policyIds: readonly string[];
  readonly bundle: { readonly id: string; readonly version: string };
  /** Operator-facing detail for a malformed request (what was wrong with it). */
  readonly detail?: string;
}

export type { PolicyAction };
