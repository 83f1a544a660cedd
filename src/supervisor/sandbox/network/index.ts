export {
  DEFAULT_ADDRESS_POOL,
  DEFAULT_PROXY_PORTS,
  HOST_INTERFACE_PREFIX,
  NETNS_PREFIX,
  SANDBOX_INTERFACE,
} from './address-plan.ts';
export type { ProxyPorts } from './address-plan.ts';
export { createDenyListener } from './deny-listener.ts';
export type { DenyListenerOptions } from './deny-listener.ts';
export type { DropCounters } from './drop-counters.ts';
export { denialBody, denyAllEgress, PADDOCK_ERROR_HEADER } from './egress-listener.ts';
export type {
  EgressDecider,
  EgressDenial,
  EgressDenialHandler,
  EgressDenyReason,
  EgressListener,
  EgressRequest,
  EgressVerdict,
  EgressVia,
} from './egress-listener.ts';
export { bindEgressSockets } from './listener-sockets.ts';
export type { EgressSocketOptions, EgressSockets, ListenerName } from './listener-sockets.ts';
export { createSandboxNetworkPool } from './network-pool.ts';
export type { SandboxNetworkPool, SandboxNetworkPoolOptions } from './network-pool.ts';
export { PROXY_ENV_NAMES, proxyEnvironment } from './proxy-env.ts';
export { createSandboxNetwork } from './sandbox-network.ts';
export type { SandboxNetwork, SandboxNetworkOptions } from './sandbox-network.ts';
export { sweepStaleSandboxNetworks } from './stale-sweep.ts';
export type { SweepReport } from './stale-sweep.ts';
export { parseClientHello } from './tls-client-hello.ts';
export type { ClientHelloResult } from './tls-client-hello.ts';
