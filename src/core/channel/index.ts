export * from './identity.ts';
export * from './protocol.ts';
export type { WorkspaceSupervisorConfig } from './supervisor-config.ts';
