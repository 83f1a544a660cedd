import { systemClock } from '../../core/clock.ts';
import { PaddockError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { AUDIT_EVENTS, type AuditEventName } from './catalog.ts';
import { OCSF_VERSION, type OcsfClassSpec } from './classes.ts';
import { actorObject, paddockProduct, severityCaption, workspaceDevice } from './objects.ts';
import type { AuditContext, OcsfEvent } from './types.ts';

// The one place an OCSF event is assembled. Class builders pass only their class's fields;
// classification, metadata, actor, device, time and profiles are filled in here.

/** Drops undefined members (recursively) so events are exactly what JSON would keep. */
function prune(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(prune);
  if (typeof value !== 'object' || value === null) return value;
  // for-in rather than Object.entries: this runs for every event on the gateway's hot path,
  // and not allocating an entries array per object makes it several times faster.
  const out: Record<string, unknown> = {};
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const member = record[key];
    if (member !== undefined) out[key] = prune(member);
  }
  return out;
}

function assertCatalogued(cls: OcsfClassSpec, name: AuditEventName, activityId: number): void {
  const spec = AUDIT_EVENTS[name] as { classUid: number; activities: readonly number[] } | undefined;
  if (
    !spec ||
    spec.classUid !== cls.uid ||
    !spec.activities.includes(activityId) ||
    !cls.activities[activityId]
  ) {
    throw new PaddockError(
      'PDK_AUDIT_EVENT_INVALID',
      `audit event "${name}" is not catalogued as ${cls.caption} (${cls.uid}) activity ${activityId}`,
    );
  }
}

/**
 * Assembles a complete OCSF event of class `cls`. `fields` holds the class-specific attributes
 * (and may override actor, device or severity_id); undefined members are dropped.
 * Throws PDK_AUDIT_EVENT_INVALID when `name` is not catalogued for this class and activity.
 */
export function buildEvent(
  cls: OcsfClassSpec,
  name: AuditEventName,
  activityId: number,
  ctx: AuditContext,
  fields: Record<string, unknown>,
): OcsfEvent {
  assertCatalogued(cls, name, activityId);
  const severityId = (fields['severity_id'] as number | undefined) ?? 1;
  // Paddock's own fields with no OCSF home live under unmapped.paddock (blueprint, channel, …).
  const extra = (fields['unmapped'] as { paddock?: Record<string, unknown> } | undefined)?.paddock;
  const paddock = prune({
    ...extra,
    blueprint: ctx.blueprint && { name: ctx.blueprint.name, version: ctx.blueprint.version },
  }) as Record<string, unknown>;
  const unmapped = Object.keys(paddock).length > 0 ? { paddock } : undefined;

  const classification = {
    class_uid: cls.uid,
    class_name: cls.caption,
    category_uid: cls.categoryUid,
    category_name: cls.categoryCaption,
    activity_id: activityId,
    activity_name: cls.activities[activityId] as string,
    type_uid: cls.uid * 100 + activityId,
    type_name: `${cls.caption}: ${cls.activities[activityId]}`,
  };
  const body = prune({
    time: ctx.time ?? systemClock.now(),
    message: ctx.message,
    actor: actorObject(ctx),
    device: workspaceDevice(ctx.workspaceId),
    ...fields,
    severity_id: severityId,
    severity: severityCaption(severityId),
    unmapped,
  }) as Record<string, unknown>;
  // OCSF: an attribute a class defines only under a profile is valid only if the event lists it.
  const profiles = [
    ...new Set(Object.keys(body).flatMap((key) => (cls.profiled[key] ? [cls.profiled[key]] : []))),
  ].sort();
  const metadata = prune({
    uid: ctx.uid ?? newId(),
    version: OCSF_VERSION,
    event_code: name,
    product: paddockProduct(),
    profiles: profiles.length > 0 ? profiles : undefined,
    correlation_uid: ctx.correlationUid,
  });
  // activity_name may be overridden by fields (activity 99 carries the source's own name).
  const event = { ...classification, metadata, ...body };
  return event as unknown as OcsfEvent;
}
