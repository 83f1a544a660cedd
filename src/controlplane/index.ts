export { openStore, redactDatabaseUrl, sqliteStoreUrl } from './store/open-store.ts';
export type { OpenStoreOptions } from './store/open-store.ts';
export type {
  AuditAppendResult,
  AuditEventRecord,
  AuditReadOptions,
  JsonValue,
  NewReviewApproval,
  NewReviewRequest,
  NewSession,
  NewUser,
  NewWorkspace,
  ReviewApprovalRecord,
  ReviewRequestFilter,
  ReviewRequestRecord,
  ReviewStatus,
  SessionRecord,
  Store,
  UserPatch,
  UserRecord,
  WorkspaceRecord,
} from './store/store.ts';
export { bootstrapLocal, profileFor } from './local-bootstrap.ts';
export type { LocalBootstrapOptions, LocalBootstrapResult } from './local-bootstrap.ts';
