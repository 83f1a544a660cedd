export { AUDIT_EVENTS, decisionEventName } from './events/catalog.ts';
export type { AuditEventName, AuditEventSpec, DecisionEventName } from './events/catalog.ts';
export { OCSF_CLASSES, OCSF_VERSION } from './events/classes.ts';
export type { OcsfClassSpec } from './events/classes.ts';
export type {
  AgentContext,
  AuditContext,
  AuditEndpoint,
  AuditUser,
  BlueprintRef,
  BundleRef,
  Decision,
  DecisionInput,
  OcsfEvent,
  SeverityId,
} from './events/types.ts';
export type { AuditFileType } from './events/objects.ts';
export type { ReviewOutcome } from './events/decision.ts';
export { sessionEvent } from './events/authentication.ts';
export type { SessionEventInput, SessionEventName } from './events/authentication.ts';
export { egressClosedEvent, egressDecisionEvent } from './events/network.ts';
export type { EgressClosedInput, EgressDecisionInput, EgressDestination } from './events/network.ts';
export { httpDecisionEvent } from './events/http.ts';
export type { HttpDecisionInput } from './events/http.ts';
export { execDecisionEvent, processExitedEvent } from './events/process.ts';
export type { ExecDecisionInput, ProcessExitedInput } from './events/process.ts';
export { fileDecisionEvent } from './events/file-system.ts';
export type { FileDecisionInput, FileOperation } from './events/file-system.ts';
export { harnessToolEvent, mcpDecisionEvent, reviewResolvedEvent } from './events/api.ts';
export type { ApiOperationKind, McpDecisionInput, ReviewResolvedInput } from './events/api.ts';
export { componentEvent, policyEvent } from './events/lifecycle.ts';
export type {
  ComponentEventInput,
  ComponentEventName,
  LifecycleFailure,
  PolicyEventInput,
  PolicyEventName,
} from './events/lifecycle.ts';
export { hostTerminalEvent, terminalAccessEvent, terminalRecordedEvent } from './events/terminal.ts';
export type {
  HostTerminalInput,
  TerminalAccessInput,
  TerminalMode,
  TerminalRecordedInput,
} from './events/terminal.ts';
export { findingEvent } from './events/detection.ts';
export { auditSystemEvent } from './events/audit-system.ts';
export type { AuditSystemEventInput, AuditSystemEventName } from './events/audit-system.ts';
export { auditRotatedEvent } from './events/event-log.ts';
export type { AuditRotatedInput } from './events/event-log.ts';
export type { FindingEventInput, FindingEventName, FindingEvidence } from './events/detection.ts';
export { loadOcsfSchema } from './ocsf/schema-loader.ts';
export { validateOcsfEvent } from './ocsf/schema-validator.ts';
export type { OcsfProblem, OcsfSchema } from './ocsf/schema-types.ts';
export { createOcsfEventCheck, ocsfEventCheckFromEnv } from './ocsf/dev-check.ts';
export type { EventCheck } from './ocsf/dev-check.ts';
export { canonicalJson } from './chain/canonical-json.ts';
export { GENESIS_HASH, recordHash } from './chain/record.ts';
export type { AuditRecord } from './chain/record.ts';
export { AuditChainWriter } from './chain/writer.ts';
export type { AuditChainWriterOptions } from './chain/writer.ts';
export { verifyChain } from './chain/verify.ts';
export type { ChainBreak, ChainVerification } from './chain/verify.ts';
export { recordHashOfCanonical, recordHashOfHashedText } from './chain/record.ts';
export { CHECKPOINT_GENESIS, checkCheckpoint, signCheckpoint, sortHeads } from './checkpoint/checkpoint.ts';
export type {
  ChainHead,
  CheckpointBody,
  CheckpointCheck,
  SignedCheckpoint,
} from './checkpoint/checkpoint.ts';
export {
  keyIdOf,
  openFileSigner,
  openProvisionedSigner,
  publicKeyFromPem,
  publicKeyPathFor,
} from './checkpoint/signer.ts';
export type { CheckpointSigner } from './checkpoint/signer.ts';
export { AuditSpool } from './spool/spool.ts';
export type { AuditSpoolOptions, ShipOptions, ShipResult } from './spool/spool.ts';
export {
  inProcessTransport,
  MAX_BATCH_BYTES,
  MAX_BATCH_EVENTS,
  parseAuditBatch,
  parseAuditReply,
} from './spool/protocol.ts';
export type {
  AuditAckMessage,
  AuditBatchMessage,
  AuditNackMessage,
  AuditReply,
  AuditTransport,
} from './spool/protocol.ts';
export { createSinks } from './sinks/index.ts';
export type {
  AuditSinks,
  CreateSinksOptions,
  SinkConfig,
  SinkStats,
  TokenCredentialLike,
} from './sinks/index.ts';
export { createEventRedactor } from './redaction/index.ts';
export type { EventLogging, EventRedactionOptions, EventRedactor } from './redaction/index.ts';
