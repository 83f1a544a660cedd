export { WorkspaceLifecycle } from './lifecycle.ts';
export type {
  NewWorkspaceInput,
  RevokeHooks,
  WorkspaceLifecycleOptions,
  WorkspaceView,
} from './lifecycle.ts';
export {
  allowedActions,
  isWorkspaceAction,
  nextState,
  WORKSPACE_ACTIONS,
  WORKSPACE_STATES,
} from './states.ts';
export type { WorkspaceAction, WorkspaceState } from './states.ts';
