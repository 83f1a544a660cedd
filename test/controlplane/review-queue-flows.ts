import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RECORDED_ARGUMENT_BYTES, reviewDigest } from '../../src/controlplane/index.ts';
import {
  ADA,
  BOB,
  CAROL,
  correlations,
  EVE,
  expectPending,
  HOUR,
  heldCall,
  LEAD,
} from './review-queue-fixtures.ts';
import type { QueueContext } from './review-queue-suite.ts';

// The lifecycle of a held call through the queue: hold, answer, use once, time out; each step audited.

export function describeReviewQueueFlows(ctx: QueueContext): void {
  describe('flows', () => {
    it('holds a call, takes an approval, lets exactly that call through once, then holds it again', async () => {
      const call = heldCall();
      const first = await ctx.queue.request(call);
      assert.equal(first.status, 'pending');
      assert.equal(first.status === 'pending' && first.expiresAt, '2025-01-01T04:00:00.000Z');
      assert.match(
        first.message,
        /awaits 1 more approval from group:appsec, user:lead@example.com, until 2025-01-01T04:00/,
      );
      assert.equal((await ctx.queue.request(call)).reviewId, first.reviewId); // a retry while waiting joins it
      const view = await ctx.queue.show(first.reviewId);
      assert.deepEqual(view.arguments, {
        owner: 'o',
        repo: 'r',
        pull_number: 7,
        body: 'LGTM',
        token: '[REDACTED]',
      });
      assert.equal(view.digest, reviewDigest(call));
      assert.deepEqual(
        [view.requester, view.sessionId, view.harness, view.blueprint, view.action, view.ruleIds],
        ['ada@example.com', 's-1', 'claude-code', 'code-review@1.3.0', 'mcp_call', ['review-github-writes']],
      );

      const approved = await ctx.queue.approve(first.reviewId, BOB, '  PR comment only  ');
      assert.deepEqual(
        [approved.status, approved.decidedBy, approved.decisionReason],
        ['approved', 'bob@example.com', 'PR comment only'],
      );
      const through = await ctx.queue.request(call);
      assert.deepEqual([through.status, through.reviewId], ['approved', first.reviewId]);
      assert.ok((await ctx.queue.show(first.reviewId)).consumedAt);
      const again = await ctx.queue.request(call);
      assert.equal(again.status, 'pending');
      assert.notEqual(again.reviewId, first.reviewId);

      const events = [...ctx.audit.events];
      assert.deepEqual(ctx.audit.take(), [
        'mcp.review_requested review_requested',
        'mcp.review_requested review_pending',
        'review.approved',
        'mcp.allowed review_approved',
        'mcp.review_requested review_requested',
      ]);
      assert.deepEqual(correlations(events), [...Array(4).fill(first.reviewId), again.reviewId]);
      assert.equal((events[2] as { status_detail?: string }).status_detail, 'PR comment only');
    });

    it('binds an approval to the digest and the session: a changed call needs its own', async () => {
      const call = heldCall();
      const changed = heldCall({ arguments: { owner: 'o', repo: 'r', pull_number: 7, body: 'LGTM!' } });
      const otherSession = heldCall({ sessionId: 's-2' });
      const id = await expectPending(ctx.queue, call);
      await ctx.queue.approve(id, LEAD, 'ok');
      const changedId = await expectPending(ctx.queue, changed);
      assert.notEqual(changedId, id);
      assert.notEqual(await expectPending(ctx.queue, otherSession), id);
      assert.equal((await ctx.queue.request(call)).status, 'approved');
      assert.equal((await ctx.queue.show(changedId)).status, 'pending');
    });

    it('needs minApprovals distinct reviewers, and one deny decides', async () => {
      const call = heldCall({ gate: { ...heldCall().gate, minApprovals: 2 } });
      const id = await expectPending(ctx.queue, call);
      const one = await ctx.queue.approve(id, BOB, 'fine');
      assert.deepEqual([one.status, one.approvals.map((a) => a.reviewer)], ['pending', ['bob@example.com']]);
      assert.match((await ctx.queue.request(call)).message, /awaits 1 more approval from/);
      for (const same of [BOB, { ...BOB, id: 'Bob@Example.com' }]) {
        await assert.rejects(ctx.queue.approve(id, same, 'again'), {
          code: 'PDK_REVIEW_DUPLICATE',
          message: `bob@example.com already approved review request ${id}: each approval must come from a different reviewer`,
        });
      }
      assert.equal((await ctx.queue.approve(id, CAROL, 'fine too')).status, 'approved');
      ctx.audit.take();

      const denied = await expectPending(ctx.queue, heldCall({ resource: 'github/merge_pull_request' }));
      const view = await ctx.queue.deny(denied, LEAD, 'no merges today');
      assert.deepEqual([view.status, view.decidedBy], ['denied', 'lead@example.com']);
      const answer = await ctx.queue.request(heldCall({ resource: 'github/merge_pull_request' }));
      assert.deepEqual(answer, {
        status: 'denied',
        reviewId: denied,
        message: `Paddock review ${denied} denied this call (denied by lead@example.com: "no merges today"). Do not retry the identical call; it stays denied for this session. A changed call needs a new review.`,
      });
      await assert.rejects(ctx.queue.approve(denied, BOB, 'overrule'), {
        code: 'PDK_REVIEW_CLOSED',
        message: `review request ${denied} was already denied by lead@example.com`,
      });
      assert.deepEqual(ctx.audit.take(), [
        'mcp.review_requested review_requested',
        'review.rejected',
        'mcp.denied review_denied',
      ]);
    });

    it('refuses and audits a self-approval and an answer from someone the gate does not name', async () => {
      const id = await expectPending(ctx.queue, heldCall());
      ctx.audit.take();
      await assert.rejects(ctx.queue.approve(id, ADA, 'mine'), {
        code: 'PDK_REVIEW_SELF_APPROVAL',
        message: `ada@example.com requested review ${id} and cannot answer it: another reviewer must`,
      });
      await assert.rejects(ctx.queue.deny(id, { ...ADA, id: 'ADA@example.com' }, 'mine'), {
        code: 'PDK_REVIEW_SELF_APPROVAL',
      });
      await assert.rejects(ctx.queue.approve(id, EVE, 'sure'), {
        code: 'PDK_REVIEW_NOT_REVIEWER',
        message: `eve@example.com is not a reviewer of review ${id}: it may be answered by group:appsec, user:lead@example.com`,
      });
      const events = [...ctx.audit.events];
      assert.deepEqual(ctx.audit.take(), [
        'finding.created review.self_approval',
        'finding.created review.self_approval',
        'finding.created review.not_a_reviewer',
      ]);
      assert.deepEqual(correlations(events), [id, id, id]);
      assert.deepEqual(
        [(await ctx.queue.show(id)).status, (await ctx.queue.show(id)).approvals],
        ['pending', []],
      );
    });

    it('refuses an answer after the timeout and denies the call under onTimeout deny, audited once', async () => {
      const call = heldCall();
      const id = await expectPending(ctx.queue, call);
      ctx.audit.take();
      ctx.clock.t += 4 * HOUR;
      await assert.rejects(ctx.queue.approve(id, BOB, 'late'), {
        code: 'PDK_REVIEW_EXPIRED',
        message: `review request ${id} timed out at 2025-01-01T04:00:00.000Z and can no longer be answered (onTimeout deny applied)`,
      });
      await assert.rejects(ctx.queue.approve(id, CAROL, 'later'), { code: 'PDK_REVIEW_EXPIRED' });
      const answer = await ctx.queue.request(call);
      assert.deepEqual([answer.status, answer.reviewId], ['denied', id]);
      assert.match(answer.message, /expired at 2025-01-01T04:00:00.000Z without enough approvals/);
      assert.deepEqual(ctx.audit.take(), ['review.expired', 'mcp.denied review_expired']);
      assert.deepEqual(
        (await ctx.queue.list({ status: 'expired' })).map((v) => [v.id, v.timedOut]),
        [[id, true]],
      );
    });

    it('approves by timeout under onTimeout allow, audited as such, and lets the call through once', async () => {
      const call = heldCall({ gate: { ...heldCall().gate, timeout: '30m', onTimeout: 'allow' } });
      const id = await expectPending(ctx.queue, call);
      ctx.audit.take();
      ctx.clock.t += HOUR;
      const expired = ctx.audit.events;
      assert.deepEqual(
        (await ctx.queue.expireDue()).map((r) => [r.id, r.status, r.timedOut]),
        [[id, 'approved', true]],
      );
      assert.deepEqual(await ctx.queue.expireDue(), []);
      assert.deepEqual([expired[0]?.['action'], expired[0]?.['disposition']], ['Allowed', 'Allowed']);
      const answer = await ctx.queue.request(call);
      assert.deepEqual([answer.status, answer.reviewId], ['approved', id]);
      assert.match(answer.message, /timed out and its gate allows the call/);
      assert.deepEqual(ctx.audit.take(), ['review.expired', 'mcp.allowed review_approved_by_timeout']);
    });

    it('records no arguments for toolArguments none, a notice for huge ones, and refuses non-JSON', async () => {
      const none = await expectPending(
        ctx.queue,
        heldCall({ logging: { toolArguments: 'none', redact: [] } }),
      );
      assert.equal((await ctx.queue.show(none)).arguments, null);
      const body = 'x'.repeat(MAX_RECORDED_ARGUMENT_BYTES);
      const big = await expectPending(ctx.queue, heldCall({ sessionId: 's-big', arguments: { body } }));
      assert.match(
        JSON.stringify((await ctx.queue.show(big)).arguments),
        /arguments too large to record \(262\d{3} bytes\)/,
      );
      await assert.rejects(ctx.queue.request(heldCall({ sessionId: ' ', requester: { id: '' } })), {
        code: 'PDK_REVIEW_INVALID',
        message: 'held call mcp_call github/create_pending_review has no requester.id, sessionId',
      });
      await assert.rejects(ctx.queue.request(heldCall({ arguments: { n: Number.NaN } })), {
        code: 'PDK_REVIEW_INVALID',
        message: /^held call mcp_call github\/create_pending_review has arguments that are not JSON data/,
      });
    });

    it('refuses empty reasons and unknown ids, and fails closed when the audit trail fails', async () => {
      const id = await expectPending(ctx.queue, heldCall());
      await assert.rejects(ctx.queue.approve(id, BOB, '   '), {
        code: 'PDK_REVIEW_INVALID',
        message: 'a review answer needs a reason of 1 to 1000 characters (got 0)',
      });
      await assert.rejects(ctx.queue.approve(id, BOB, 'x'.repeat(1001)), { code: 'PDK_REVIEW_INVALID' });
      await assert.rejects(ctx.queue.show('rv-missing'), {
        code: 'PDK_REVIEW_NOT_FOUND',
        message: 'review request rv-missing not found',
      });
      await assert.rejects(ctx.queue.deny('rv-missing', BOB, 'no'), { code: 'PDK_REVIEW_NOT_FOUND' });
      await ctx.queue.approve(id, BOB, 'ok');
      const failing = heldCall({
        decisionEvent: () => {
          throw new Error('audit spool full');
        },
      });
      await assert.rejects(ctx.queue.request(failing), /audit spool full/);
    });
  });
}
