import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson } from '../../audit/index.ts';
import { compileRedactPattern } from '../../config/index.ts';
import { PaddockError } from '../../core/errors.ts';
import {
  digestMaterial,
  type HeldCall,
  type ParsedGate,
  redactArguments,
  redactResource,
  type ReviewApprovalView,
  type ReviewView,
  type ToolArgumentLogging,
} from '../../policy/index.ts';
import type {
  JsonValue,
  NewReviewRequest,
  ReviewApprovalRecord,
  ReviewRequestRecord,
} from '../store/store.ts';

// Between a held call and the stored request, and between the stored request and what
// reviewers see. The digest is over the exact call; what is stored is what logging allows.

/** Recorded arguments larger than this are replaced by a notice (the digest still covers them). */
export const MAX_RECORDED_ARGUMENT_BYTES = 256 * 1024;

const DEFAULT_LOGGING: ToolArgumentLogging = { toolArguments: 'redacted', redact: [] };
const compiled = new WeakMap<readonly string[], RegExp[]>();

function patternsOf(logging: ToolArgumentLogging): RegExp[] {
  let patterns = compiled.get(logging.redact);
  if (!patterns) {
    patterns = logging.redact.map(compileRedactPattern);
    compiled.set(logging.redact, patterns);
  }
  return patterns;
}

/** A new review id: `rv-` and 16 hex digits, short enough to type. */
export function newReviewId(): string {
  return `rv-${randomBytes(8).toString('hex')}`;
}

/**
 * `sha256:` and the hex SHA-256 of the canonical JSON of the call's exact action, resource and
 * arguments. PDK_REVIEW_INVALID when the arguments are not JSON data.
 * @example reviewDigest({ action: 'mcp_call', resource: 'github/merge', arguments: { pr: 1 } }) // 'sha256:…'
 */
export function reviewDigest(call: Pick<HeldCall, 'action' | 'resource' | 'arguments'>): string {
  let text: string;
  try {
    text = canonicalJson(digestMaterial(call));
  } catch (error) {
    throw new PaddockError(
      'PDK_REVIEW_INVALID',
      `held call ${call.action} ${call.resource} has arguments that are not JSON data: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/**
 * The recorded arguments with the call's context (not digested) beside them under `context`,
 * redacted the same way; nothing when logging records no arguments.
 */
function withContext(recorded: unknown, call: HeldCall, logging: ToolArgumentLogging): unknown {
  if (recorded === undefined || call.context === undefined) return recorded;
  const context = redactArguments(call.context, logging, patternsOf(logging));
  return { arguments: recorded, context };
}

/** What the store keeps of a held call. */
export function newReviewRequest(
  call: HeldCall,
  gate: ParsedGate,
  ids: { readonly id: string; readonly digest: string; readonly expiresAt: number },
): NewReviewRequest {
  const logging = call.logging ?? DEFAULT_LOGGING;
  const patterns = patternsOf(logging);
  const recorded = withContext(redactArguments(call.arguments ?? null, logging, patterns), call, logging);
  let args = (recorded === undefined ? null : recorded) as JsonValue;
  const size = Buffer.byteLength(JSON.stringify(args));
  if (size > MAX_RECORDED_ARGUMENT_BYTES) {
    args = {
      '[paddock]': `arguments too large to record (${size} bytes); the approval is bound to their digest`,
    };
  }
  return {
    id: ids.id,
    requester: call.requester.id,
    workspaceId: call.workspaceId,
    sessionId: call.sessionId,
    harness: call.harness,
    blueprint: `${call.blueprint.name}@${call.blueprint.version}`,
    tool: call.tool,
    action: call.action,
    resource: redactResource(call.resource, logging, patterns),
    arguments: args,
    argumentDigest: ids.digest,
    ruleIds: [...call.ruleIds],
    reviewers: gate.reviewers,
    minApprovals: gate.minApprovals,
    onTimeout: gate.onTimeout,
    bundleId: call.bundle.id,
    bundleVersion: call.bundle.version,
    expiresAt: ids.expiresAt,
  };
}

function iso(ms: number): string;
function iso(ms: number | null): string | null;
function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The request as reviewers see it. */
export function reviewView(
  record: ReviewRequestRecord,
  approvals: readonly ReviewApprovalRecord[],
): ReviewView {
  return {
    id: record.id,
    status: record.status,
    requester: record.requester,
    workspaceId: record.workspaceId,
    sessionId: record.sessionId,
    harness: record.harness,
    blueprint: record.blueprint,
    tool: record.tool,
    action: record.action,
    resource: record.resource,
    arguments: record.arguments,
    digest: record.argumentDigest,
    ruleIds: record.ruleIds,
    reviewers: record.reviewers,
    minApprovals: record.minApprovals,
    onTimeout: record.onTimeout,
    createdAt: iso(record.createdAt),
    expiresAt: iso(record.expiresAt),
    decidedAt: iso(record.decidedAt),
    decidedBy: record.decidedBy,
    decisionReason: record.decisionReason,
    timedOut: record.timedOut,
    consumedAt: iso(record.consumedAt),
    approvals: approvals.map(
      (approval): ReviewApprovalView => ({
        reviewer: approval.reviewer,
        reason: approval.comment,
        at: iso(approval.createdAt),
      }),
    ),
  };
}

/** `name@version` back into its parts (the version never holds `@`). */
export function blueprintRef(blueprint: string): { name: string; version: string } {
  const at = blueprint.lastIndexOf('@');
  return at < 0
    ? { name: blueprint, version: '' }
    : { name: blueprint.slice(0, at), version: blueprint.slice(at + 1) };
}
