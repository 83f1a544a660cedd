import { buildEvent } from './base.ts';
import { AUDIT_EVENTS } from './catalog.ts';
import { API_ACTIVITY } from './classes.ts';
import { statusFields } from './decision.ts';
import { actorObject, paddockActor } from './objects.ts';
import type { AuditContext, OcsfEvent } from './types.ts';

// API Activity (6003) for the audit system acting on its own records: a checkpoint signed
// (Create), a spool segment started (Create), an export run (Read), a verification that found
// the store altered (Read, failed, severity High: someone may have tampered with the trail).

export type AuditSystemEventName =
  | 'audit.checkpoint_written'
  | 'audit.spool_rotated'
  | 'audit.exported'
  | 'audit.verify_failed';

export interface AuditSystemEventInput extends AuditContext {
  readonly event: AuditSystemEventName;
  /** What acted: `controlplane`, `cli`, or the spool's source. */
  readonly component: string;
  /** The record acted on, e.g. `checkpoint 12`, a segment file name, an export file. */
  readonly resource: string;
  /** For audit.verify_failed: what is wrong. */
  readonly failure?: { readonly reasonCode: string; readonly reason?: string };
  /** Figures to keep with the event (under unmapped.paddock.audit), e.g. gseq, events, sources. */
  readonly details?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * An event of the audit pipeline itself.
 * @example auditSystemEvent({ event: 'audit.checkpoint_written', component: 'controlplane',
 *   resource: 'checkpoint 12', details: { gseq: 40210, sources: 31 } })
 */
export function auditSystemEvent(input: AuditSystemEventInput): OcsfEvent {
  const failed = input.event === 'audit.verify_failed';
  const activityId = AUDIT_EVENTS[input.event].activities[0];
  return buildEvent(API_ACTIVITY, input.event, activityId, input, {
    actor: actorObject(input) ?? paddockActor(input.component),
    api: { operation: input.event, service: { name: 'Paddock audit' } },
    src_endpoint: { name: `Paddock ${input.component}` },
    resources: [{ name: input.resource, type: 'audit record' }],
    severity_id: failed ? 4 : 1,
    ...statusFields(failed ? 2 : 1, { code: input.failure?.reasonCode, detail: input.failure?.reason }),
    unmapped: { paddock: { audit: input.details } },
  });
}
