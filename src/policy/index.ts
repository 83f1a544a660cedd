export { EGRESS_REASONS } from './egress/types.ts';
export type {
  EgressAccess,
  EgressConnectAllow,
  EgressDecision,
  EgressReason,
  EgressRuleSpec,
  EgressServiceSpec,
  EgressStage,
} from './egress/types.ts';
export { compileEgressPolicy } from './egress/compile.ts';
export type { CompiledRule, CompiledService, EgressPolicy } from './egress/compile.ts';
export { accessAllows, decideAddresses, decideConnect, decideRequest, findService } from './egress/decide.ts';
export type { EgressRequestDecision } from './egress/decide.ts';
export {
  canonicalIPv6,
  hostMatchesPattern,
  hostsAgree,
  normalizeHost,
  splitAuthority,
} from './egress/host.ts';
export type { NormalizedHost } from './egress/host.ts';
export { classifyAddress } from './egress/address.ts';
export type { DeniedAddress } from './egress/address.ts';
export { ambiguousPath, compilePathGlob, pathMatches } from './egress/path-glob.ts';
export type { PathGlob } from './egress/path-glob.ts';
