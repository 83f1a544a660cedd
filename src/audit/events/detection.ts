import { buildEvent } from './base.ts';
import { DETECTION_FINDING } from './classes.ts';
import { decisionFields } from './decision.ts';
import { endpointObject, fileObject, processObject, urlObject } from './objects.ts';
import type { AuditContext, AuditEndpoint, DecisionInput, OcsfEvent, SeverityId } from './types.ts';

// Detection Finding (2004): Paddock noticed behaviour worth a human's attention (a metadata
// endpoint probe, a credential placeholder sent to the wrong host, a burst of denials), beyond
// the single decision events that record each blocked action.

export type FindingEventName = 'finding.created' | 'finding.updated' | 'finding.closed';

/** One piece of evidence; set the members that apply. */
export interface FindingEvidence {
  readonly destination?: AuditEndpoint;
  readonly url?: string;
  /** A command involved; `processUid` is the one its exec.* event carried. */
  readonly command?: { readonly argv: readonly string[]; readonly processUid: string; readonly pid?: number };
  readonly path?: string;
}

export interface FindingEventInput extends AuditContext {
  readonly event: FindingEventName;
  /** Stable id of the finding across created / updated / closed. */
  readonly findingId: string;
  readonly title: string;
  readonly description?: string;
  /** The detector that raised it, e.g. `egress.metadata_probe`; becomes finding_info.analytic. */
  readonly detector: string;
  readonly severityId: SeverityId;
  /** Free-form categories, e.g. `["credential-exfiltration"]`. */
  readonly types?: readonly string[];
  readonly confidence?: 'low' | 'medium' | 'high';
  readonly evidence?: readonly FindingEvidence[];
  /** The enforcement Paddock applied, with the deciding bundle (action, disposition, policy). */
  readonly enforcement?: DecisionInput;
}

const ACTIVITY: Readonly<Record<FindingEventName, number>> = {
  'finding.created': 1,
  'finding.updated': 2,
  'finding.closed': 3,
};
// Finding status ids differ from other classes: 1 New, 2 In Progress, 4 Resolved.
const STATUS: Readonly<Record<FindingEventName, readonly [number, string]>> = {
  'finding.created': [1, 'New'],
  'finding.updated': [2, 'In Progress'],
  'finding.closed': [4, 'Resolved'],
};
const CONFIDENCE = { low: [1, 'Low'], medium: [2, 'Medium'], high: [3, 'High'] } as const;

function evidenceObject(evidence: FindingEvidence): Record<string, unknown> {
  return {
    dst_endpoint: evidence.destination && endpointObject(evidence.destination),
    url: evidence.url === undefined ? undefined : urlObject(evidence.url),
    process:
      evidence.command &&
      processObject(evidence.command.argv, { pid: evidence.command.pid, uid: evidence.command.processUid }),
    file: evidence.path === undefined ? undefined : fileObject(evidence.path),
  };
}

/** Only the control outcome of an enforcement: a finding's status is its own lifecycle. */
function enforcementFields(enforcement: DecisionInput | undefined): Record<string, unknown> {
  if (!enforcement) return {};
  const { action_id, action, disposition_id, disposition, policy, authorizations } =
    decisionFields(enforcement);
  return { action_id, action, disposition_id, disposition, policy, authorizations };
}

/**
 * A Detection Finding. Open findings are alerts (`is_alert: true`); closing one is not.
 * @example findingEvent({ event: 'finding.created', findingId: 'f-1', title: 'Cloud metadata probe',
 *   detector: 'egress.metadata_probe', severityId: 4, workspaceId, sessionId })
 */
export function findingEvent(input: FindingEventInput): OcsfEvent {
  const [statusId, status] = STATUS[input.event];
  const confidence = input.confidence && CONFIDENCE[input.confidence];
  return buildEvent(DETECTION_FINDING, input.event, ACTIVITY[input.event], input, {
    finding_info: {
      uid: input.findingId,
      title: input.title,
      desc: input.description,
      types: input.types,
      analytic: { uid: input.detector, name: input.detector, type_id: 1, type: 'Rule' },
    },
    severity_id: input.severityId,
    status_id: statusId,
    status,
    is_alert: input.event !== 'finding.closed',
    confidence_id: confidence?.[0],
    confidence: confidence?.[1],
    evidences: input.evidence?.map(evidenceObject),
    ...enforcementFields(input.enforcement),
  });
}
