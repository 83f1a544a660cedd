export { openStore, redactDatabaseUrl, sqliteStoreUrl } from './store/open-store.ts';
export type { OpenStoreOptions } from './store/open-store.ts';
export type {
  AuditAppendResult,
  AuditEventRecord,
  AuditReadOptions,
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
