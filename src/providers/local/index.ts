export { LocalProvider, SUPERVISOR_ENTRY } from './local-provider.ts';
export type { LocalProviderOptions } from './local-provider.ts';
export { DATA_UID_BASE, workspaceDirs } from './workspace-dirs.ts';
export type { WorkspaceDirs } from './workspace-dirs.ts';
