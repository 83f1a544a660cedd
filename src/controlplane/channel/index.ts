export { ChannelServer } from './channel-server.ts';
export type { ChannelListen, ChannelServerOptions } from './channel-server.ts';
export { IdentityRegistry } from './identity-registry.ts';
export type { IdentityRecord, IdentityRegistryOptions, IdentityStatus } from './identity-registry.ts';
