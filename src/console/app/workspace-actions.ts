import type { WorkspaceAction } from './types.ts';

// Which lifecycle actions each workspace state allows, only to enable the right buttons: the
// server decides (src/controlplane/workspaces/states.ts; test/console/workspace-actions.test.ts
// keeps this table equal to it). An unknown state enables nothing.
const ALLOWED: Readonly<Record<string, readonly WorkspaceAction[]>> = {
  created: ['start', 'rebuild', 'revoke', 'decommission'],
  running: ['stop', 'rebuild', 'revoke'],
  stopped: ['start', 'rebuild', 'revoke', 'decommission'],
  revoked: ['decommission'],
  decommissioned: [],
};

export function allowedActions(state: string): readonly WorkspaceAction[] {
  return Object.hasOwn(ALLOWED, state) ? (ALLOWED[state] ?? []) : [];
}

/** A terminal can be opened only into a running workspace (the broker refuses the others). */
export function canOpenTerminal(state: string): boolean {
  return state === 'running';
}
