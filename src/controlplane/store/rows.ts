import type { SqlRow } from './sql-executor.ts';
import type {
  AuditEventRecord,
  JsonValue,
  ReviewApprovalRecord,
  ReviewRequestRecord,
  ReviewStatus,
  SessionRecord,
  UserRecord,
  WorkspaceRecord,
} from './store.ts';

// Rows to records, identical for both backends: BIGINT arrives from pg as a string
// and booleans from SQLite as 0/1; JSON arrives as text (SQLite, TEXT columns) or
// already parsed (JSONB).

function int(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

function intOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : int(value);
}

function text(value: unknown): string {
  return String(value);
}

function textOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function bool(value: unknown): boolean {
  return value === true || value === 1;
}

function json(value: unknown): JsonValue {
  return typeof value === 'string' ? (JSON.parse(value) as JsonValue) : (value as JsonValue);
}

export const USER_COLUMNS = 'id, display_name, groups, disabled, created_at, updated_at';

export function toUser(row: SqlRow): UserRecord {
  return {
    id: text(row['id']),
    displayName: text(row['display_name']),
    groups: json(row['groups']) as string[],
    disabled: bool(row['disabled']),
    createdAt: int(row['created_at']),
    updatedAt: int(row['updated_at']),
  };
}

export const WORKSPACE_COLUMNS = 'id, owner, profile, provider, state, state_version, created_at, updated_at';

export function toWorkspace(row: SqlRow): WorkspaceRecord {
  return {
    id: text(row['id']),
    owner: text(row['owner']),
    profile: text(row['profile']),
    provider: text(row['provider']),
    state: text(row['state']),
    stateVersion: int(row['state_version']),
    createdAt: int(row['created_at']),
    updatedAt: int(row['updated_at']),
  };
}

export const SESSION_COLUMNS = 'id, user_id, created_at, expires_at, last_seen_at, revoked_at';

export function toSession(row: SqlRow): SessionRecord {
  return {
    id: text(row['id']),
    userId: text(row['user_id']),
    createdAt: int(row['created_at']),
    expiresAt: int(row['expires_at']),
    lastSeenAt: int(row['last_seen_at']),
    revokedAt: intOrNull(row['revoked_at']),
  };
}

export const REVIEW_COLUMNS =
  'id, requester, workspace_id, blueprint, tool, arguments, argument_digest, status, created_at, expires_at, ' +
  'decided_at, decided_by, session_id, harness, action, resource, rule_ids, reviewers, min_approvals, ' +
  'on_timeout, bundle_id, bundle_version, decision_reason, timed_out, consumed_at';

export function toReviewRequest(row: SqlRow): ReviewRequestRecord {
  return {
    id: text(row['id']),
    requester: text(row['requester']),
    workspaceId: text(row['workspace_id']),
    blueprint: text(row['blueprint']),
    tool: text(row['tool']),
    arguments: json(row['arguments']),
    argumentDigest: text(row['argument_digest']),
    status: text(row['status']) as ReviewStatus,
    createdAt: int(row['created_at']),
    expiresAt: int(row['expires_at']),
    decidedAt: intOrNull(row['decided_at']),
    decidedBy: textOrNull(row['decided_by']),
    sessionId: textOrNull(row['session_id']),
    harness: textOrNull(row['harness']),
    action: text(row['action']),
    resource: text(row['resource']),
    ruleIds: json(row['rule_ids']) as string[],
    reviewers: json(row['reviewers']) as string[],
    minApprovals: int(row['min_approvals']),
    onTimeout: text(row['on_timeout']) as 'deny' | 'allow',
    bundleId: text(row['bundle_id']),
    bundleVersion: text(row['bundle_version']),
    decisionReason: textOrNull(row['decision_reason']),
    timedOut: bool(row['timed_out']),
    consumedAt: intOrNull(row['consumed_at']),
  };
}

export const APPROVAL_COLUMNS = 'request_id, reviewer, comment, created_at';

export function toApproval(row: SqlRow): ReviewApprovalRecord {
  return {
    requestId: text(row['request_id']),
    reviewer: text(row['reviewer']),
    comment: textOrNull(row['comment']),
    createdAt: int(row['created_at']),
  };
}

export const AUDIT_COLUMNS = 'source, seq, uid, class_uid, time, event, prev_hash, hash';

export function toAuditEvent(row: SqlRow): AuditEventRecord {
  return {
    source: text(row['source']),
    seq: int(row['seq']),
    uid: text(row['uid']),
    classUid: int(row['class_uid']),
    time: int(row['time']),
    event: json(row['event']),
    prevHash: text(row['prev_hash']),
    hash: text(row['hash']),
  };
}
