import type { DecisionKind, DecisionPoint, DecisionRequest } from '../../policy/index.ts';
import type { Store } from '../store/store.ts';
import { type RecordedDecision, recoverDecision } from './recover-request.ts';

// What-if: the decisions audited over a window, asked again of the candidate bundles (the
// decision points compiled from the commit under review), listing every one that would change.
// Only the answer is compared (allow / deny / review), not the reason or rule: a policy edit
// that changes why but not what is not a change in effect.

export type ChangeKind = 'allow→deny' | 'deny→allow' | 'newly review-gated' | 'review→allow' | 'review→deny';

export interface ChangedDecision {
  readonly uid: string;
  readonly time: number;
  readonly workspace?: string;
  readonly user: string;
  readonly blueprint: string;
  readonly action: DecisionRequest['action'];
  /** What the action was on, as `policy explain --resource` takes it. */
  readonly resource: string;
  readonly before: DecisionKind;
  readonly after: DecisionKind;
  readonly change: ChangeKind;
  /** The candidate's reason and determining policies. */
  readonly reason: string;
  readonly policyIds: readonly string[];
  readonly inexact?: string;
}

export interface ReplayReport {
  readonly since: number;
  readonly until: number;
  /** Decision events found in the window. */
  readonly decisions: number;
  readonly replayed: number;
  readonly unchanged: number;
  readonly changed: readonly ChangedDecision[];
  /** Events not replayed, counted by why (no candidate bundle for the blueprint, missing inputs). */
  readonly skipped: Readonly<Record<string, number>>;
  /** Replays of inputs the event recorded only in part (see RecordedDecision.inexact). */
  readonly inexact: number;
}

/** The candidate decision point of a blueprint; undefined when the candidate has no such blueprint. */
export type CandidateDecisionPoints = (blueprint: string) => DecisionPoint | undefined;

/** A connection is never held: the gateway records a gated connect as denied. */
function asRecorded(request: DecisionRequest, decision: DecisionKind): DecisionKind {
  return request.action === 'connect' && decision === 'review' ? 'deny' : decision;
}

function changeOf(before: DecisionKind, after: DecisionKind): ChangeKind {
  if (after === 'review') return 'newly review-gated';
  if (before === 'review') return after === 'allow' ? 'review→allow' : 'review→deny';
  return before === 'allow' ? 'allow→deny' : 'deny→allow';
}

export function resourceOf(request: DecisionRequest): string {
  switch (request.action) {
    case 'exec':
      return request.argv.join(' ');
    case 'read_file':
    case 'write_file':
      return request.path;
    case 'connect':
      return `${request.host}:${request.port}`;
    case 'http_request':
      return 'url' in request
        ? `${request.method} ${request.url}`
        : `${request.method} ${request.host}:${request.port}${request.path}`;
    case 'mcp_call':
      return `${request.server}/${request.tool}`;
  }
}

/** Replays recorded decisions against the candidate decision points. */
export function replayDecisions(
  recorded: Iterable<RecordedDecision>,
  candidates: CandidateDecisionPoints,
  window: { readonly since: number; readonly until: number },
  skippedBefore: Readonly<Record<string, number>> = {},
): ReplayReport {
  const skipped: Record<string, number> = { ...skippedBefore };
  const changed: ChangedDecision[] = [];
  let decisions = Object.values(skippedBefore).reduce((sum, count) => sum + count, 0);
  let replayed = 0;
  let unchanged = 0;
  let inexact = 0;
  for (const decision of recorded) {
    decisions++;
    const pdp = candidates(decision.blueprint);
    if (!pdp) {
      const why = `blueprint ${decision.blueprint} is not in the candidate`;
      skipped[why] = (skipped[why] ?? 0) + 1;
      continue;
    }
    replayed++;
    if (decision.inexact) inexact++;
    const answer = pdp.decide(decision.request);
    const after = asRecorded(decision.request, answer.decision);
    if (after === decision.decision) {
      unchanged++;
      continue;
    }
    changed.push({
      uid: decision.uid,
      time: decision.time,
      ...(decision.workspace ? { workspace: decision.workspace } : {}),
      user: decision.request.principal?.user ?? 'unknown',
      blueprint: decision.blueprint,
      action: decision.request.action,
      resource: resourceOf(decision.request),
      before: decision.decision,
      after,
      change: changeOf(decision.decision, after),
      reason: answer.reason,
      policyIds: answer.policyIds,
      ...(decision.inexact ? { inexact: decision.inexact } : {}),
    });
  }
  return { ...window, decisions, replayed, unchanged, changed, skipped, inexact };
}

/** Page size when reading the store's audit log (its maximum). */
const PAGE = 10_000;
/** Event names of the decision families, for the store's event_code filter. */
const DECISION_CODES = ['exec', 'file', 'egress', 'http', 'mcp'].flatMap((family) =>
  ['allowed', 'denied', 'review_requested'].map((outcome) => `${family}.${outcome}`),
);

/**
 * Every decision event the store holds from `since` (inclusive) to `until` (exclusive), in
 * commit order, recovered as requests; events that cannot be replayed are counted by why.
 */
export async function recordedDecisionsFromStore(
  store: Store,
  since: number,
  until: number,
): Promise<{ decisions: RecordedDecision[]; skipped: Record<string, number> }> {
  const ordered: { gseq: number; decision: RecordedDecision }[] = [];
  const skipped: Record<string, number> = {};
  for (const eventCode of DECISION_CODES) {
    if (eventCode === 'egress.review_requested') continue;
    let afterGseq = 0;
    for (;;) {
      const page = await store.searchAuditLog({ eventCode, since, until, afterGseq, limit: PAGE });
      for (const entry of page) {
        const recovered = recoverDecision(JSON.parse(entry.eventJson) as Record<string, unknown>, entry.time);
        if ('skip' in recovered) skipped[recovered.skip] = (skipped[recovered.skip] ?? 0) + 1;
        else ordered.push({ gseq: entry.gseq, decision: recovered.decision });
      }
      if (page.length < PAGE) break;
      afterGseq = page.at(-1)!.gseq;
    }
  }
  ordered.sort((a, b) => a.gseq - b.gseq);
  return { decisions: ordered.map((item) => item.decision), skipped };
}

/** Decision events of hash-chained log lines (a supervisor's spool, `paddock run --audit`). */
export function recordedDecisionsFromChainLines(
  lines: Iterable<string>,
  since: number,
  until: number,
): { decisions: RecordedDecision[]; skipped: Record<string, number> } {
  const decisions: RecordedDecision[] = [];
  const skipped: Record<string, number> = {};
  for (const line of lines) {
    if (!line.trim()) continue;
    let record: { time?: unknown; event?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      skipped['unreadable line'] = (skipped['unreadable line'] ?? 0) + 1;
      continue;
    }
    const time = typeof record.time === 'number' ? record.time : 0;
    if (time < since || time >= until) continue;
    const event = record.event as Record<string, unknown> | undefined;
    if (!event) continue;
    const recovered = recoverDecision(event, time);
    if ('skip' in recovered) {
      if (recovered.skip !== 'not a decision event')
        skipped[recovered.skip] = (skipped[recovered.skip] ?? 0) + 1;
    } else decisions.push(recovered.decision);
  }
  return { decisions, skipped };
}
