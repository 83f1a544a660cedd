export * from './identity.ts';
export * from './protocol.ts';
export type { HostEgressConfig, HostSshConfig, WorkspaceSupervisorConfig } from './supervisor-config.ts';
