// The fixed dotted names of every audit event, mapped to their OCSF class and activities.
// Builders stamp the name into `metadata.event_code` (OCSF: "the identifier of the original
// event"; Paddock is the original source), so a SIEM can filter on it. docs/audit-events.md is
// the operator-facing copy of this table and test/audit/catalog.test.ts keeps the two equal.

export interface AuditEventSpec {
  readonly classUid: number;
  /** The activity ids the event may carry; several when the activity follows the request (HTTP method). */
  readonly activities: readonly number[];
  /** When the event is emitted, for the docs table. */
  readonly when: string;
}

const HTTP_METHODS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 99] as const;
const FILE_OPERATIONS = [1, 2, 3, 4] as const;
const API_OPERATIONS = [1, 2, 3, 4, 99] as const;

/**
 * Every audit event Paddock emits, by name. A builder refuses (PDK_AUDIT_EVENT_INVALID) to emit a
 * name with a class or activity this table does not list for it.
 * @example AUDIT_EVENTS['egress.denied'] // { classUid: 4001, activities: [5], when: '…' }
 */
export const AUDIT_EVENTS = {
  'session.login': { classUid: 3002, activities: [1], when: 'a user signed in through SSO' },
  'session.login_failed': { classUid: 3002, activities: [1], when: 'a sign-in was rejected' },
  'session.logout': { classUid: 3002, activities: [2], when: 'a user signed out' },
  'session.expired': { classUid: 3002, activities: [2], when: 'a session reached its lifetime' },
  'session.revoked': { classUid: 3002, activities: [2], when: 'a session was revoked before it expired' },
  'session.refreshed': {
    classUid: 3002,
    activities: [99],
    when: "a session's identity was re-checked with the identity provider (token refresh)",
  },

  'egress.allowed': { classUid: 4001, activities: [1], when: 'the egress gateway opened a connection' },
  'egress.denied': { classUid: 4001, activities: [5], when: 'the egress gateway refused a connection' },
  'egress.closed': {
    classUid: 4001,
    activities: [2],
    when: 'an allowed connection closed (bytes, duration)',
  },

  'http.allowed': { classUid: 4002, activities: HTTP_METHODS, when: 'the gateway forwarded an HTTP request' },
  'http.denied': { classUid: 4002, activities: HTTP_METHODS, when: 'the gateway refused an HTTP request' },
  'http.review_requested': {
    classUid: 4002,
    activities: HTTP_METHODS,
    when: 'the gateway held an HTTP request for review',
  },

  'exec.allowed': { classUid: 1007, activities: [1], when: 'a command was allowed to run' },
  'exec.denied': { classUid: 1007, activities: [1], when: 'a command was refused' },
  'exec.review_requested': { classUid: 1007, activities: [1], when: 'a command was held for review' },
  'process.exited': { classUid: 1007, activities: [2], when: 'a sandboxed command exited' },

  'file.allowed': { classUid: 1001, activities: FILE_OPERATIONS, when: 'a file access was allowed' },
  'file.denied': { classUid: 1001, activities: FILE_OPERATIONS, when: 'a file access was refused' },
  'file.review_requested': {
    classUid: 1001,
    activities: FILE_OPERATIONS,
    when: 'a file access was held for review',
  },

  'mcp.allowed': {
    classUid: 6003,
    activities: API_OPERATIONS,
    when: 'the MCP gateway forwarded a tool call',
  },
  'mcp.denied': { classUid: 6003, activities: API_OPERATIONS, when: 'the MCP gateway refused a tool call' },
  'mcp.review_requested': {
    classUid: 6003,
    activities: API_OPERATIONS,
    when: 'a tool call was held for review',
  },
  'tool.allowed': {
    classUid: 6003,
    activities: [99],
    when: 'the hook server allowed a harness tool call that touches no file, command, URL or MCP tool',
  },
  'tool.denied': {
    classUid: 6003,
    activities: [99],
    when: 'the hook server refused a harness tool call it could not read, check or map',
  },
  'review.approved': { classUid: 6003, activities: [3], when: 'a reviewer approved a held action' },
  'review.rejected': { classUid: 6003, activities: [3], when: 'a reviewer rejected a held action' },
  'review.expired': { classUid: 6003, activities: [3], when: 'a review timed out and its onTimeout applied' },

  'workspace.created': { classUid: 6002, activities: [1], when: 'a workspace was provisioned' },
  'workspace.started': { classUid: 6002, activities: [3], when: 'a workspace started' },
  'workspace.stopped': { classUid: 6002, activities: [4], when: 'a workspace stopped' },
  'workspace.rebuilt': { classUid: 6002, activities: [8], when: 'a workspace was rebuilt from its image' },
  'workspace.revoked': { classUid: 6002, activities: [7], when: "a workspace's access was revoked" },
  'workspace.decommissioned': { classUid: 6002, activities: [2], when: 'a workspace was removed' },
  'sandbox.started': { classUid: 6002, activities: [3], when: 'an agent sandbox started' },
  'sandbox.stopped': { classUid: 6002, activities: [4], when: 'an agent sandbox stopped' },
  'supervisor.started': { classUid: 6002, activities: [3], when: 'a workspace supervisor started' },
  'supervisor.restarted': {
    classUid: 6002,
    activities: [5],
    when: 'a supervisor was restarted after it died',
  },
  'policy.released': { classUid: 6002, activities: [8], when: 'the control plane released a signed bundle' },
  'policy.applied': { classUid: 6002, activities: [8], when: 'a supervisor verified and applied a bundle' },
  'policy.rejected': {
    classUid: 6002,
    activities: [8],
    when: 'a supervisor refused a bundle (kept the last good)',
  },

  'terminal.attached': {
    classUid: 6001,
    activities: [99],
    when: "the access broker attached a user to their workspace's terminal",
  },
  'terminal.denied': {
    classUid: 6001,
    activities: [99],
    when: 'the access broker refused a terminal attach',
  },
  'terminal.revoked': {
    classUid: 6001,
    activities: [99],
    when: 'a live terminal was closed because its session ended or was revoked',
  },
  'terminal.recorded': {
    classUid: 1001,
    activities: [1],
    when: 'a terminal closed and its recording was sealed (SHA-256)',
  },
  'terminal.host_logon': {
    classUid: 3002,
    activities: [1],
    when: "a workspace without a sandbox opened a terminal on its host's own OpenSSH server, as the host's local account",
  },
  'terminal.host_logoff': {
    classUid: 3002,
    activities: [2],
    when: "a terminal on the host's own OpenSSH server ended (exit status, duration)",
  },

  'audit.rotated': {
    classUid: 1008,
    activities: [5],
    when: 'an audit sink rotated its JSON-lines file (renamed aside, a new file begun)',
  },

  'finding.created': { classUid: 2004, activities: [1], when: 'Paddock detected suspicious agent behaviour' },
  'finding.updated': {
    classUid: 2004,
    activities: [2],
    when: 'a finding gained evidence or changed severity',
  },
  'finding.closed': { classUid: 2004, activities: [3], when: 'a finding was resolved' },

  'audit.checkpoint_written': {
    classUid: 6003,
    activities: [1],
    when: 'the control plane signed a checkpoint of every audit chain head',
  },
  'audit.spool_rotated': { classUid: 6003, activities: [1], when: 'an audit spool started a new segment' },
  'audit.exported': {
    classUid: 6003,
    activities: [2],
    when: 'audit events were exported (`paddock audit export`)',
  },
  'audit.verify_failed': {
    classUid: 6003,
    activities: [2],
    when: 'verification found an audit chain or checkpoint altered',
  },
} as const satisfies Record<string, AuditEventSpec>;

/** Every audit event name, e.g. `egress.denied`. */
export type AuditEventName = keyof typeof AUDIT_EVENTS;

/** The event names a decision family emits: `egress.allowed`, `egress.denied`, `egress.review_requested`. */
export type DecisionEventName<Family extends string> = Extract<
  AuditEventName,
  `${Family}.allowed` | `${Family}.denied` | `${Family}.review_requested`
>;

const SUFFIX = { allow: 'allowed', deny: 'denied', review: 'review_requested' } as const;

/** The event name for a decision in a family (`decisionEventName('http', 'deny')` → `http.denied`). */
export function decisionEventName<Family extends 'egress' | 'http' | 'exec' | 'file' | 'mcp'>(
  family: Family,
  decision: keyof typeof SUFFIX,
): DecisionEventName<Family> {
  return `${family}.${SUFFIX[decision]}` as DecisionEventName<Family>;
}
