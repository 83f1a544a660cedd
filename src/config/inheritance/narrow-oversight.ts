import { parseDurationMs } from '../../core/clock.ts';
import type { LoggingSpec, ReviewGates } from '../schema/index.ts';
import { quoteAll } from './effective-scope.ts';
import type { WideningReport } from './widening-report.ts';

// Human oversight of an agent: who reviews its gated writes, and what the audit
// trail keeps. A child may tighten oversight, never loosen it.

/** Milliseconds of a duration; an unparsable one counts as the worst case for the caller. */
function durationMs(text: string, whenInvalid: number): number {
  return parseDurationMs(text) ?? whenInvalid;
}

/**
 * reviewGates cannot be removed when the parent has them. reviewers: the child may
 * only remove (more approvers is a wider set of people who can let a write through);
 * minApprovals: not fewer; timeout: not longer; onTimeout: not `allow` when the parent denies.
 */
export function checkReviewGatesNarrow(
  child: ReviewGates | undefined,
  parent: ReviewGates | undefined,
  report: WideningReport,
): void {
  const base = ['spec', 'reviewGates'];
  if (parent === undefined) return;
  if (child === undefined) {
    report.widens(base, 'spec.reviewGates', 'removes the review gates');
    return;
  }
  const extra = child.reviewers.filter((reviewer) => !parent.reviewers.includes(reviewer));
  if (extra.length > 0) {
    report.widens([...base, 'reviewers'], 'spec.reviewGates.reviewers', `adds ${quoteAll(extra)}`, [
      ...base,
      'reviewers',
      child.reviewers.indexOf(extra[0]!),
    ]);
  }
  if (child.minApprovals < parent.minApprovals) {
    report.widens(
      [...base, 'minApprovals'],
      'spec.reviewGates.minApprovals',
      `lowers ${parent.minApprovals} to ${child.minApprovals}`,
    );
  }
  if (durationMs(child.timeout, Number.POSITIVE_INFINITY) > durationMs(parent.timeout, 0)) {
    report.widens(
      [...base, 'timeout'],
      'spec.reviewGates.timeout',
      `lengthens ${parent.timeout} to ${child.timeout}`,
    );
  }
  if (parent.onTimeout === 'deny' && child.onTimeout !== 'deny') {
    report.widens(
      [...base, 'onTimeout'],
      'spec.reviewGates.onTimeout',
      `changes "deny" to "${child.onTimeout}"`,
    );
  }
}

/**
 * Tool arguments may be recorded `none`, `redacted` or `full`. Two properties must
 * survive inheritance: recording (audit completeness) and redaction (secrets stay
 * out of the audit store and the SIEM). So `redacted` is always allowed, `none`
 * only when the parent records nothing, and `full` only when the parent is `full`.
 * The parent's redact patterns must all be kept (more may be added), and
 * retention may not get shorter.
 */
export function checkLoggingNarrow(child: LoggingSpec, parent: LoggingSpec, report: WideningReport): void {
  const base = ['spec', 'logging'];
  const from = parent.toolArguments;
  const to = child.toolArguments;
  if (to === 'none' && from !== 'none') {
    report.widens(
      [...base, 'toolArguments'],
      'spec.logging.toolArguments',
      `changes "${from}" to "none" (stops recording tool arguments)`,
    );
  } else if (to === 'full' && from !== 'full') {
    report.widens(
      [...base, 'toolArguments'],
      'spec.logging.toolArguments',
      `changes "${from}" to "full" (records tool arguments unredacted)`,
    );
  }
  const dropped = parent.redact.filter((pattern) => !child.redact.includes(pattern));
  if (dropped.length > 0) {
    report.widens([...base, 'redact'], 'spec.logging.redact', `removes ${quoteAll(dropped)}`);
  }
  if (durationMs(child.retention, 0) < durationMs(parent.retention, Number.POSITIVE_INFINITY)) {
    report.widens(
      [...base, 'retention'],
      'spec.logging.retention',
      `shortens ${parent.retention} to ${child.retention}`,
    );
  }
}
