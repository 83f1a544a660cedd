// What the agent (and the person reading its transcript) is told about a held call. Written so
// that a model acts on it once instead of polling: what is happening, until when, and the one
// thing to do next. Hooks send these as a deny reason, the MCP gateway as a tool error.

/** The parts of a request the messages name. */
export interface MessageSubject {
  readonly id: string;
  readonly reviewers: readonly string[];
  readonly minApprovals: number;
  /** Approvals so far. */
  readonly approvals: number;
  readonly expiresAt: number;
  readonly onTimeout: 'deny' | 'allow';
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function who(reviewers: readonly string[]): string {
  return reviewers.length > 0 ? reviewers.join(', ') : 'nobody (the gate names no reviewers)';
}

/**
 * The pending answer: the call awaits review by whom, until when, and to retry the identical
 * call once after approval.
 * @example pendingMessage({ id: 'rv-1', reviewers: ['group:appsec'], minApprovals: 1, approvals: 0,
 *   expiresAt: Date.UTC(2025, 0, 1, 4), onTimeout: 'deny' })
 */
export function pendingMessage(subject: MessageSubject): string {
  const needed = subject.minApprovals - subject.approvals;
  const approvals = `${needed} more approval${needed === 1 ? '' : 's'}`;
  const timeout =
    subject.onTimeout === 'allow'
      ? 'after which it is allowed (onTimeout allow)'
      : 'after which it is denied';
  return (
    `Paddock held this call for human review (review ${subject.id}): it awaits ${approvals} from ` +
    `${who(subject.reviewers)}, until ${iso(subject.expiresAt)}, ${timeout}. Do not retry it now and do ` +
    'not poll: continue with other work or stop and tell the user. Once it is approved, retry the ' +
    'identical call (same arguments) once; a changed call needs a new review. A reviewer answers with ' +
    `\`paddock review approve ${subject.id} --reason TEXT\`.`
  );
}

/** The answer for a call a reviewer denied. */
export function deniedMessage(id: string, by: string | null, reason: string | null): string {
  const because = reason ? `: "${reason}"` : '';
  return (
    `Paddock review ${id} denied this call (denied by ${by ?? 'a reviewer'}${because}). Do not retry ` +
    'the identical call; it stays denied for this session. A changed call needs a new review.'
  );
}

/** The answer for a call whose review timed out under onTimeout deny. */
export function expiredMessage(id: string, expiresAt: number): string {
  return (
    `Paddock review ${id} expired at ${iso(expiresAt)} without enough approvals, so this call is ` +
    'denied (onTimeout deny). Do not retry the identical call; it stays denied for this session. ' +
    'A changed call needs a new review.'
  );
}

/** The answer for the one call an approval lets through. */
export function approvedMessage(id: string, timedOut: boolean): string {
  return timedOut
    ? `Paddock review ${id} timed out and its gate allows the call (onTimeout allow); it goes through once.`
    : `Paddock review ${id} approved this call; it goes through once. Repeating it needs a new review.`;
}
