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
export {
  REVIEW_TRANSITIONS,
  approvalUsableUntil,
  canTransition,
  digestMaterial,
  gateStep,
  isOpen,
  parseGate,
  timeoutStatus,
  voteOutcome,
} from './review/lifecycle.ts';
export type { GateStep, ParsedGate, RequestTimes, ReviewVerdict } from './review/lifecycle.ts';
export { checkReviewer, matchReviewer, sameUser } from './review/reviewers.ts';
export type { ReviewerCheck, ReviewerRefusal, ReviewerScope } from './review/reviewers.ts';
export {
  MAX_REDACT_DEPTH,
  REDACTED,
  redactArguments,
  redactResource,
  redactText,
} from './review/redact.ts';
export { approvedMessage, deniedMessage, expiredMessage, pendingMessage } from './review/messages.ts';
export type { MessageSubject } from './review/messages.ts';
export type {
  GateAnswer,
  GateDecision,
  HeldCall,
  ReviewApprovalView,
  ReviewerIdentity,
  ReviewGate,
  ReviewGateSpec,
  ReviewInbox,
  ReviewListFilter,
  ReviewStatusName,
  ReviewUser,
  ReviewView,
  ToolArgumentLogging,
} from './review/types.ts';
export { POLICY_ACTIONS } from './cedar/bundle-types.ts';
export type {
  BundlePolicy,
  ExtraPolicyFile,
  PolicyAction,
  PolicyBlueprint,
  PolicyBundle,
  PolicyBundleInput,
  PolicySource,
  PolicyWriteSpec,
  ProtectedPaths,
} from './cedar/bundle-types.ts';
export { policyInputOf } from './cedar/blueprint-input.ts';
export type { BlueprintDocument, BlueprintServiceDocument } from './cedar/blueprint-input.ts';
export { checkPolicyFiles, compilePolicyBundle } from './cedar/compile-bundle.ts';
export type { PolicyProblem } from './cedar/extra-policies.ts';
export { CEDAR_SCHEMA } from './cedar/schema.ts';
export { normalizeCommandPattern } from './cedar/compile-tools.ts';
export { canonicalJson, REQUEST_LIMITS, renderCommandLine } from './pdp/request-forms.ts';
export { createDecisionPoint } from './pdp/decision-point.ts';
export type { DecisionPoint, DecisionPointOptions, PreparedRequest } from './pdp/decision-point.ts';
export { DEFAULT_DENY_REASON, POLICY_REASONS } from './pdp/reasons.ts';
export type { PolicyReason } from './pdp/reasons.ts';
export { toCedarJson } from './pdp/values.ts';
export type {
  ConnectRequest,
  DecisionKind,
  DecisionRequest,
  ExecRequest,
  FileRequest,
  HttpRequestRequest,
  McpCallRequest,
  PolicyDecision,
  PolicyPrincipal,
} from './pdp/types.ts';
export { POLICY_PROTECTED_PATHS, PROTECTED_NAMES } from './bundle/protected-paths.ts';
export {
  compileReleaseBundle,
  denyAllBundle,
  parseReleaseBundle,
  RELEASE_BUNDLE_FORMAT,
  releaseBundleHash,
  serializeReleaseBundle,
} from './bundle/index.ts';
export type { BundleLogging, ReleaseBundle, ReleaseBundleInput, SourceFileHash } from './bundle/index.ts';
