export type { ProviderStatus, WorkspaceProvider, WorkspaceSpec } from './provider.ts';
export { LocalProvider, SUPERVISOR_ENTRY, workspaceDirs } from './local/index.ts';
export type { LocalProviderOptions, WorkspaceDirs } from './local/index.ts';
