import type { ComponentEventName } from '../../audit/index.ts';
import { PaddockError } from '../../core/errors.ts';

// The workspace state machine. `create` makes a workspace in `created`; every other action is
// a transition from the states listed here. `revoked` (the kill switch) leads only to
// `decommissioned`, which leads nowhere.
//
//   created ──start──▶ running ──stop──▶ stopped ──start──▶ running
//   created|stopped ──rebuild──▶ same state (fresh home)     running ──rebuild──▶ running (restarted)
//   created|running|stopped ──revoke──▶ revoked
//   created|stopped|revoked ──decommission──▶ decommissioned

export const WORKSPACE_STATES = ['created', 'running', 'stopped', 'revoked', 'decommissioned'] as const;
export type WorkspaceState = (typeof WORKSPACE_STATES)[number];

export const WORKSPACE_ACTIONS = ['start', 'stop', 'rebuild', 'revoke', 'decommission'] as const;
export type WorkspaceAction = (typeof WORKSPACE_ACTIONS)[number];

const TRANSITIONS: Record<WorkspaceAction, Partial<Record<WorkspaceState, WorkspaceState>>> = {
  start: { created: 'running', stopped: 'running' },
  stop: { running: 'stopped' },
  rebuild: { created: 'created', running: 'running', stopped: 'stopped' },
  revoke: { created: 'revoked', running: 'revoked', stopped: 'revoked' },
  decommission: { created: 'decommissioned', stopped: 'decommissioned', revoked: 'decommissioned' },
};

/** The audit event of each action (and of `create`). */
export const ACTION_EVENTS: Record<WorkspaceAction | 'create', ComponentEventName> = {
  create: 'workspace.created',
  start: 'workspace.started',
  stop: 'workspace.stopped',
  rebuild: 'workspace.rebuilt',
  revoke: 'workspace.revoked',
  decommission: 'workspace.decommissioned',
};

export function isWorkspaceAction(value: string): value is WorkspaceAction {
  return (WORKSPACE_ACTIONS as readonly string[]).includes(value);
}

/** The actions a workspace in `state` may take, e.g. for the console's buttons. */
export function allowedActions(state: string): WorkspaceAction[] {
  return WORKSPACE_ACTIONS.filter((action) => TRANSITIONS[action][state as WorkspaceState] !== undefined);
}

/** The state `action` leads to from `state`; PDK_WORKSPACE_TRANSITION naming both when it is not allowed. */
export function nextState(workspaceId: string, state: string, action: WorkspaceAction): WorkspaceState {
  const next = TRANSITIONS[action][state as WorkspaceState];
  if (next) return next;
  const allowed = allowedActions(state);
  throw new PaddockError(
    'PDK_WORKSPACE_TRANSITION',
    `workspace ${workspaceId} is ${state}: ${action} is not allowed (allowed: ${allowed.join(', ') || 'nothing'})`,
    { details: { state, action, allowed } },
  );
}
