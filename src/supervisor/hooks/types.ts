import type { DecisionRequest, PolicyDecision } from '../../policy/index.ts';

// The hook adapters' vocabulary: harness tool calls in neutral terms, the decision requests
// they become, and the verdict that is answered in each harness's own format. The decision
// point arrives by injection (an in-process function, or the PDP socket client): the hook
// server knows nothing of bundles or Cedar.

/** The harnesses whose hook formats Paddock speaks. */
export const HARNESSES = ['claude-code', 'codex', 'gemini'] as const;
export type Harness = (typeof HARNESSES)[number];

/**
 * A decision as the hooks use it: the decision point's answer, plus what the review queue adds
 * to a `review` (a message for the agent and the review id).
 */
export type HookDecision = Pick<PolicyDecision, 'decision' | 'reason' | 'policyIds'> & {
  readonly detail?: string;
  /** Text for the agent, e.g. how to follow a pending review. */
  readonly message?: string;
  /** The review request a `review` decision opened. */
  readonly reviewId?: string;
};

/** The decision point as the hook server uses it. May throw or reject: the call is then denied. */
export type DecideFn = (request: DecisionRequest) => HookDecision | Promise<HookDecision>;

/** A harness tool call in neutral terms. Paths are as the harness gave them (maybe relative). */
export type ToolCall =
  | { readonly kind: 'read'; readonly paths: readonly string[] }
  | { readonly kind: 'write'; readonly paths: readonly string[] }
  /** A shell command line, or an argv (Codex may send one). `cwd` overrides the event's. */
  | { readonly kind: 'shell'; readonly command: string | readonly string[]; readonly cwd?: string }
  /** A Codex apply_patch body; the files it adds, updates, deletes or moves to are written. */
  | { readonly kind: 'patch'; readonly patch: string }
  | { readonly kind: 'fetch'; readonly urls: readonly string[] }
  | {
      readonly kind: 'search';
      readonly query: string;
      readonly allowedDomains?: readonly string[];
      readonly blockedDomains?: readonly string[];
    }
  | { readonly kind: 'mcp'; readonly server: string; readonly tool: string; readonly arguments: unknown }
  /** A tool with no effect outside the harness (todo lists, plan mode, sub-agent hand-off). */
  | { readonly kind: 'inert' }
  /** An unknown tool or input the adapter cannot read: denied with `reason`. */
  | { readonly kind: 'invalid'; readonly reason: string };

export type HookPhase = 'pre' | 'post';

/** One hook invocation, read from the harness's stdin JSON. */
export interface HookEvent {
  readonly harness: Harness;
  readonly phase: HookPhase;
  /** The event as the harness names it (PreToolUse, BeforeTool, …). */
  readonly eventName: string;
  readonly toolName: string;
  /** The harness's working directory; must be absolute for relative paths to resolve. */
  readonly cwd: string;
  readonly sessionId: string | null;
  readonly toolUseId: string | null;
  readonly call: ToolCall;
}

/**
 * Why the hook server decided without the PDP. The PDP audits its own answers; these decisions
 * reach the audit trail through HookServerOptions.onLocalDecision.
 */
export type LocalReason =
  | 'input_invalid'
  | 'tool_unsupported'
  | 'tool_inert'
  | 'unverifiable'
  | 'pdp_unavailable'
  | 'pdp_malformed'
  | 'hook_failed';

/** A decision the hook server made itself, for the audit trail. */
export interface LocalDecision {
  /** Null when the request to the hook socket was too malformed to name one. */
  readonly harness: Harness | null;
  readonly eventName: string | null;
  readonly toolName: string | null;
  readonly sessionId: string | null;
  /** What the call asked for, when the adapter could read it: picks the audit event's class. */
  readonly call: ToolCall | null;
  /** The harness's working directory, when known (relative paths in `call` are against it). */
  readonly cwd: string | null;
  readonly outcome: 'allow' | 'deny' | 'ask';
  readonly reason: LocalReason;
  readonly message: string;
}

/** What Paddock concluded; `ask` only when unverifiable commands are configured to ask. */
export interface Verdict {
  readonly outcome: 'allow' | 'deny' | 'review' | 'ask';
  /** Addressed to the agent (and shown to the user): what happened and what to do next. */
  readonly message: string;
  readonly policyIds: readonly string[];
  readonly reviewIds: readonly string[];
  /** Set when the hook server decided without the PDP. */
  readonly local?: LocalReason;
}

/** The hook process's answer: what it prints and how it exits. */
export interface HookAnswer {
  readonly stdout: string;
  readonly stderr: string;
  /** 0 with a JSON decision on stdout, or 2: block, with the reason on stderr (all three harnesses). */
  readonly exitCode: 0 | 2;
}

/** A harness's hook format: reading its stdin and writing its answer. */
export interface HarnessAdapter {
  readonly harness: Harness;
  /** @throws HookInputError when the payload is not a tool event this adapter can read */
  parse(payload: unknown, home: string): HookEvent;
  answer(event: HookEvent, verdict: Verdict): HookAnswer;
}

/** Malformed or unsupported hook input. The hook blocks with exit code 2 and this message. */
export class HookInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HookInputError';
  }
}
