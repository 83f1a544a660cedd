import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OcsfEvent } from '../../src/audit/index.ts';
import { type StandaloneReviews, startStandaloneReviews } from '../../src/cli/standalone-reviews.ts';
import { DECISION_META_KEY } from '../../src/supervisor/index.ts';
import { assertValidOcsf } from '../audit/ocsf-schema.ts';
import { type HttpTestServer, startHttpTestServer } from './fixtures/mcp-test-server.ts';
import { CONTEXT, eventsNamed, type GatewayHarness, httpPlan, startGateway, textOf } from './mcp-support.ts';

// A call the PDP answers `review` goes to the real review queue (the one `paddock run` uses,
// over its own SQLite store): the agent gets a structured pending answer it can act on, a
// reviewer approves, and the identical call then goes through exactly once.

const REQUESTER = { id: 'ada@example.com', name: 'ada', groups: ['engineering'] };
const REVIEWER = { id: 'bob@example.com', name: 'bob', groups: ['appsec'] };

describe('MCP gateway: review gates', () => {
  let upstream: HttpTestServer;
  let reviews: StandaloneReviews;
  let harness: GatewayHarness;
  const reviewEvents: Record<string, unknown>[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'pdk-mcp-review-'));

  before(async () => {
    upstream = await startHttpTestServer();
    reviews = await startStandaloneReviews({
      requester: REQUESTER,
      audit: async (event) => reviewEvents.push(event),
      socketPath: join(dir, 'review.sock'),
      workspaceId: CONTEXT.workspaceId,
      groupsOf: async () => [],
    });
    harness = await startGateway({
      servers: [httpPlan('github', upstream.url)],
      reviews: reviews.gate,
      reviewGate: { reviewers: ['group:appsec'], minApprovals: 1, timeout: '4h', onTimeout: 'deny' },
      requester: REQUESTER,
      logging: { toolArguments: 'redacted', redact: ['(?i)body'] },
    });
  });
  after(async () => {
    await harness.close();
    await reviews.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a held call with a structured pending error, then forwards the identical call once approved', async () => {
    const client = await harness.client();
    const call = {
      name: 'github__create_issue',
      arguments: { title: 'Flaky test', body: 'secret-ish text' },
    };
    const pending = await client.callTool(call);
    assert.equal(pending.isError, true);
    const details = (pending.structuredContent as { paddock: Record<string, unknown> }).paddock;
    assert.equal(details['decision'], 'review');
    assert.equal(details['reason'], 'review_pending');
    assert.equal(details['retry'], 'retry-identical-call-after-approval');
    assert.deepEqual(details['policyIds'], [
      'mcp[github].allow',
      'extra:policies/mcp.cedar#issues-need-review',
    ]);
    const reviewId = details['reviewId'] as string;
    assert.match(reviewId, /^rv-[0-9a-f]{16}$/);
    assert.ok(!Number.isNaN(Date.parse(details['expiresAt'] as string)));
    assert.match(textOf(pending), new RegExp(`held this call for human review \\(review ${reviewId}\\)`));
    assert.deepEqual(pending._meta?.[DECISION_META_KEY], details);

    const held = eventsNamed(harness.events, 'mcp.review_requested');
    assert.equal(held.length, 1);
    assertValidOcsf(held[0]);
    assert.equal(held[0]?.metadata.correlation_uid, reviewId);
    // logging.toolArguments redacted with a "(?i)body" pattern: the body key is hidden.
    assert.deepEqual((held[0]?.['api'] as { request?: { data: unknown } } | undefined)?.request?.data, {
      title: 'Flaky test',
      body: '[REDACTED]',
    });

    // Asking again before a decision: still pending, the same review.
    const again = await client.callTool(call);
    assert.equal((again.structuredContent as { paddock: { reviewId: string } }).paddock.reviewId, reviewId);

    const view = await reviews.queue.show(reviewId);
    assert.equal(view.tool, 'github/create_issue');
    assert.equal(view.action, 'mcp_call');
    assert.deepEqual(view.arguments, { title: 'Flaky test', body: '[REDACTED]' });
    await reviews.queue.approve(reviewId, REVIEWER, 'fine to file');

    const approved = await client.callTool(call);
    assert.equal(approved.isError, undefined);
    assert.equal(textOf(approved), 'created issue "Flaky test"');
    const allowed = eventsNamed(harness.events, 'mcp.allowed').filter(
      (event) => event['status_code'] === 'review_approved',
    );
    assert.equal(allowed.length, 1);
    assert.equal(allowed[0]?.metadata.correlation_uid, reviewId);

    // The approval is used up: the same call again needs a new review.
    const next = await client.callTool(call);
    const nextId = (next.structuredContent as { paddock: { reviewId: string } }).paddock.reviewId;
    assert.notEqual(nextId, reviewId);
  });

  it('refuses with the reviewer reason after a denial, and a changed call needs its own review', async () => {
    const client = await harness.client();
    const pending = await client.callTool({
      name: 'github__create_issue',
      arguments: { title: 'Delete prod' },
    });
    const reviewId = (pending.structuredContent as { paddock: { reviewId: string } }).paddock.reviewId;
    await reviews.queue.deny(reviewId, REVIEWER, 'no');
    const denied = await client.callTool({
      name: 'github__create_issue',
      arguments: { title: 'Delete prod' },
    });
    assert.equal(denied.isError, true);
    const details = (denied.structuredContent as { paddock: Record<string, unknown> }).paddock;
    assert.equal(details['decision'], 'deny');
    assert.equal(details['reason'], 'review_denied');
    assert.equal(details['retry'], 'do-not-retry');
    assert.match(
      textOf(denied),
      new RegExp(`review ${reviewId} denied this call \\(denied by bob@example.com: "no"\\)`),
    );

    const changed = await client.callTool({
      name: 'github__create_issue',
      arguments: { title: 'Delete staging' },
    });
    const changedId = (changed.structuredContent as { paddock: { reviewId: string } }).paddock.reviewId;
    assert.notEqual(changedId, reviewId);
    const events: OcsfEvent[] = eventsNamed(harness.events, 'mcp.denied');
    assert.ok(events.some((event) => event['status_code'] === 'review_denied'));
  });

  it('denies a review decision when the gateway has no review queue (fail closed)', async () => {
    const bare = await startGateway({ servers: [httpPlan('github', upstream.url)] });
    try {
      const client = await bare.client();
      const result = await client.callTool({ name: 'github__create_issue', arguments: { title: 'x' } });
      assert.equal(result.isError, true);
      assert.equal(
        (result.structuredContent as { paddock: { reason: string } }).paddock.reason,
        'review_unavailable',
      );
      assert.match(textOf(result), /it needs human review and this workspace has no review queue/);
    } finally {
      await bare.close();
    }
  });
});
