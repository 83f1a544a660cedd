import assert from 'node:assert/strict';
import { mcpDecisionEvent } from '../../src/audit/index.ts';
import type { ReviewQueue } from '../../src/controlplane/index.ts';
import type { HeldCall, ReviewerIdentity } from '../../src/policy/index.ts';
import { assertValidOcsf } from '../audit/ocsf-schema.ts';

// Held calls, reviewers and audit capture for the review queue suite.

export const HOUR = 3_600_000;

export const ADA: ReviewerIdentity = { id: 'ada@example.com', groups: ['appsec'] }; // the requester
export const BOB: ReviewerIdentity = { id: 'bob@example.com', groups: ['appsec'] };
export const CAROL: ReviewerIdentity = { id: 'carol@example.com', groups: ['appsec', 'dev'] };
export const LEAD: ReviewerIdentity = { id: 'lead@example.com', groups: [] };
export const EVE: ReviewerIdentity = { id: 'eve@example.com', groups: ['dev'] };

const BUNDLE = { id: 'bundle-code-review', version: '7' };

/** An MCP tool call the PDP answered `review`, whose decision events are real mcp.* events. */
export function heldCall(overrides: Partial<HeldCall> = {}): HeldCall {
  const sessionId = overrides.sessionId ?? 's-1';
  return {
    requester: { id: 'ada@example.com' },
    workspaceId: 'ws-ada',
    sessionId,
    harness: 'claude-code',
    blueprint: { name: 'code-review', version: '1.3.0' },
    bundle: BUNDLE,
    action: 'mcp_call',
    resource: 'github/create_pending_review',
    tool: 'github/create_pending_review',
    arguments: { owner: 'o', repo: 'r', pull_number: 7, body: 'LGTM', token: 'ghp_secret' },
    ruleIds: ['review-github-writes'],
    gate: {
      reviewers: ['group:appsec', 'user:lead@example.com'],
      minApprovals: 1,
      timeout: '4h',
      onTimeout: 'deny',
    },
    logging: { toolArguments: 'redacted', redact: ['(?i)token'] },
    decisionEvent: (decision) =>
      mcpDecisionEvent({
        workspaceId: 'ws-ada',
        sessionId,
        harness: 'claude-code',
        server: 'github',
        tool: 'create_pending_review',
        kind: 'create',
        bundle: BUNDLE,
        ruleId: 'review-github-writes',
        ...decision,
      }),
    ...overrides,
  };
}

export interface Captured {
  readonly events: Record<string, unknown>[];
  readonly audit: (event: Record<string, unknown>) => Promise<void>;
  /** `event_code` and `status_code` (reason) of each event so far, then forgets them. */
  take(): string[];
}

/** An audit sink that checks every event against OCSF 1.8.0 and keeps it. */
export function captureAudit(): Captured {
  const events: Record<string, unknown>[] = [];
  return {
    events,
    audit: async (event) => {
      assertValidOcsf(event);
      events.push(event);
    },
    take() {
      const names = events.map((event) => {
        const metadata = event['metadata'] as { event_code: string; correlation_uid?: string };
        const code =
          event['status_code'] ?? (event['finding_info'] as { analytic?: { uid: string } })?.analytic?.uid;
        return `${metadata.event_code}${code ? ` ${String(code)}` : ''}`;
      });
      events.length = 0;
      return names;
    },
  };
}

/** The correlation uid of every captured event. */
export function correlations(events: readonly Record<string, unknown>[]): (string | undefined)[] {
  return events.map((event) => (event['metadata'] as { correlation_uid?: string }).correlation_uid);
}

/** Asserts the answer is pending and returns its review id. */
export async function expectPending(queue: ReviewQueue, call: HeldCall): Promise<string> {
  const answer = await queue.request(call);
  assert.equal(answer.status, 'pending', answer.message);
  return answer.reviewId;
}
