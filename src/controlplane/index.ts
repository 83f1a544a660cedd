export { openStore, redactDatabaseUrl, sqliteStoreUrl } from './store/open-store.ts';
export type { OpenStoreOptions } from './store/open-store.ts';
export type {
  AuditAppendResult,
  AuditChainHead,
  AuditChainLink,
  AuditEventRecord,
  AuditLogEntry,
  AuditReadOptions,
  AuditSearchFilter,
  AuditSnapshot,
  JsonValue,
  NewReviewApproval,
  NewReviewRequest,
  NewReviewVote,
  NewSession,
  NewUser,
  NewWorkspace,
  ReviewApprovalRecord,
  ReviewBinding,
  ReviewRequestFilter,
  ReviewRequestRecord,
  ReviewStatus,
  ReviewVoteResult,
  SessionRecord,
  Store,
  UserPatch,
  UserRecord,
  WorkspaceRecord,
} from './store/store.ts';
export { bootstrapLocal, profileFor } from './local-bootstrap.ts';
export type { LocalBootstrapOptions, LocalBootstrapResult } from './local-bootstrap.ts';
export { ReviewQueue } from './reviews/queue.ts';
export type { ReviewQueueOptions } from './reviews/queue.ts';
export { MAX_RECORDED_ARGUMENT_BYTES, newReviewId, reviewDigest } from './reviews/held-request.ts';
export { MAX_REASON_LENGTH } from './reviews/inbox.ts';
export { createTerminalBroker } from './broker/terminal-broker.ts';
export type { LiveTerminal, TerminalBroker, TerminalBrokerOptions } from './broker/terminal-broker.ts';
export { listRecordings, readRecording } from './broker/recording.ts';
export type { RecordingInfo } from './broker/recording.ts';
export {
  CLOSE_CODES as TERMINAL_CLOSE_CODES,
  MAX_TERMINAL_COLS,
  MAX_TERMINAL_ROWS,
} from './broker/protocol.ts';
export type {
  Terminal,
  TerminalExit,
  TerminalOpenOptions,
  TerminalSize,
  TerminalTarget,
} from './broker/terminal-target.ts';
export { createControlPlaneServer } from './http/server.ts';
export type { ControlPlaneServer, ControlPlaneServerOptions } from './http/server.ts';
export type { Access, Method, Route, RouteContext, RouteResult } from './http/route-table.ts';
export { SESSION_ENDED_CLOSE_CODE } from './http/upgrade-routes.ts';
export type { UpgradeRoute } from './http/upgrade-routes.ts';
export type { Principal } from './identity/principal.ts';
export { startEmbeddedIdp } from './identity/embedded-idp.ts';
export type { EmbeddedIdp, StandaloneEmbeddedIdp } from './identity/embedded-idp.ts';
export { SessionManager } from './sessions/session-manager.ts';
export type { SessionEndReason, SessionEndedListener, SessionView } from './sessions/session-manager.ts';
export { ChannelServer, IdentityRegistry } from './channel/index.ts';
export type { ChannelListen, ChannelServerOptions, IdentityRecord, IdentityStatus } from './channel/index.ts';
export {
  allowedActions,
  isWorkspaceAction,
  WORKSPACE_ACTIONS,
  WorkspaceLifecycle,
} from './workspaces/index.ts';
export type { NewWorkspaceInput, RevokeHooks, WorkspaceAction, WorkspaceView } from './workspaces/index.ts';
export { CONTROL_PLANE_SOURCE, receiveAuditBatch } from './audit/ingest.ts';
export { AuditCheckpointer, auditKeyPath } from './audit/checkpointer.ts';
export type { AuditCheckpointerOptions } from './audit/checkpointer.ts';
export { verifyAuditStore } from './audit/verify-store.ts';
export type {
  AuditStoreVerification,
  BadAuditEvent,
  BadCheckpoint,
  VerifyAuditStoreOptions,
} from './audit/verify-store.ts';
export { ChannelRelay, CLUSTER_TOPICS, ClusterBus, LeaderElection, runFenced } from './cluster/index.ts';
export type {
  ClusterBusOptions,
  ClusterMessage,
  LeaderElectionOptions,
  LocalChannel,
} from './cluster/index.ts';
