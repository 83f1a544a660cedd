export * from './identity.ts';
export * from './protocol.ts';
export type { HostSshConfig, WorkspaceSupervisorConfig } from './supervisor-config.ts';
