import { PRODUCT_VENDOR } from '../../core/version.ts';
import { buildEvent } from './base.ts';
import { AUDIT_EVENTS } from './catalog.ts';
import { APPLICATION_LIFECYCLE } from './classes.ts';
import { bundlePolicy, statusFields } from './decision.ts';
import { paddockProduct } from './objects.ts';
import type { AuditContext, BundleRef, OcsfEvent, SeverityId } from './types.ts';

// Application Lifecycle (6002): Paddock's own components changing state (workspaces, sandboxes,
// supervisors) and policy bundles being released, applied or refused. `app` names the component.

export type ComponentEventName =
  | 'workspace.created'
  | 'workspace.started'
  | 'workspace.stopped'
  | 'workspace.rebuilt'
  | 'workspace.revoked'
  | 'workspace.decommissioned'
  | 'sandbox.started'
  | 'sandbox.stopped'
  | 'supervisor.started'
  | 'supervisor.restarted';

export type PolicyEventName = 'policy.released' | 'policy.applied' | 'policy.rejected';

/** A reason for a failed transition or a refused bundle. */
export interface LifecycleFailure {
  /** Machine-readable, e.g. `signature_invalid`, `version_rollback`, `image_pull_failed`. */
  readonly reasonCode: string;
  readonly reason?: string;
}

export interface ComponentEventInput extends AuditContext {
  readonly event: ComponentEventName;
  /** The component's id: the workspace id for workspace.*, the sandbox or supervisor instance id otherwise. */
  readonly componentId: string;
  /** Set when the transition failed (e.g. a sandbox that could not start). */
  readonly failure?: LifecycleFailure;
}

export interface PolicyEventInput extends AuditContext {
  readonly event: PolicyEventName;
  /** The bundle released, applied or refused. */
  readonly bundle: BundleRef;
  /** For policy.rejected: the bundle that stays in force, if any (none means deny-all). */
  readonly keptBundle?: BundleRef;
  /** The release channel, e.g. `stable`. */
  readonly channel?: string;
  /** Required for policy.rejected. */
  readonly failure?: LifecycleFailure;
  /** For policy.released: the desired-state commit the bundle was compiled from. */
  readonly commit?: string;
  /** For policy.released: who approved the release (the `user` is who carried it out). */
  readonly approvedBy?: string;
}

function activityOf(event: ComponentEventName | PolicyEventName): number {
  return AUDIT_EVENTS[event].activities[0];
}

/**
 * A workspace, sandbox or supervisor lifecycle event.
 * @example componentEvent({ event: 'sandbox.started', componentId: 'sbx-1', workspaceId: 'ws-1' })
 */
export function componentEvent(input: ComponentEventInput): OcsfEvent {
  const component = input.event.slice(0, input.event.indexOf('.'));
  const failed = input.failure !== undefined;
  return buildEvent(APPLICATION_LIFECYCLE, input.event, activityOf(input.event), input, {
    app: paddockProduct(component, input.componentId),
    severity_id: failed ? 3 : 1,
    ...statusFields(failed ? 2 : 1, { code: input.failure?.reasonCode, detail: input.failure?.reason }),
  });
}

/**
 * policy.released (control plane), policy.applied or policy.rejected (supervisor's bundle
 * verifier). A refused bundle is action Denied / disposition Rejected at severity High: a bad
 * signature, a rollback or an expired bundle may be an attack on the policy channel.
 */
export function policyEvent(input: PolicyEventInput): OcsfEvent {
  const rejected = input.event === 'policy.rejected';
  const severityId: SeverityId = rejected ? 4 : 1;
  return buildEvent(APPLICATION_LIFECYCLE, input.event, activityOf(input.event), input, {
    app: {
      name: 'Paddock policy bundle',
      uid: input.bundle.id,
      version: input.bundle.version,
      vendor_name: PRODUCT_VENDOR,
    },
    policy: bundlePolicy(input.bundle, !rejected && input.event !== 'policy.released'),
    severity_id: severityId,
    ...(input.event === 'policy.released'
      ? {}
      : rejected
        ? { action_id: 2, action: 'Denied', disposition_id: 25, disposition: 'Rejected' }
        : { action_id: 1, action: 'Allowed', disposition_id: 1, disposition: 'Allowed' }),
    ...statusFields(rejected ? 2 : 1, { code: input.failure?.reasonCode, detail: input.failure?.reason }),
    unmapped: {
      paddock: {
        channel: input.channel,
        kept_bundle: input.keptBundle && { id: input.keptBundle.id, version: input.keptBundle.version },
        commit: input.commit,
        approved_by: input.approvedBy,
      },
    },
  });
}
