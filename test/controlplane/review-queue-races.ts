import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GateAnswer } from '../../src/policy/index.ts';
import { ADA, BOB, CAROL, expectPending, HOUR, heldCall, LEAD } from './review-queue-fixtures.ts';
import type { QueueContext } from './review-queue-suite.ts';

// The races of issue 5 item 5, with answers arriving at once through two replicas (two stores
// on one database): two approvals at once, an approval at the timeout, an approval for changed
// arguments, a self-approval racing a real one, two consumers of one approval, two first holds.

function settledCodes(results: PromiseSettledResult<unknown>[]): string[] {
  return results
    .map((r) => (r.status === 'fulfilled' ? 'ok' : String((r.reason as { code?: string }).code)))
    .sort();
}

export function describeReviewQueueRaces(ctx: QueueContext): void {
  describe('races', () => {
    it('two approvals at once with minApprovals 1: one decides, the other is told it is closed', async () => {
      const id = await expectPending(ctx.queue, heldCall());
      const other = await ctx.replica();
      const results = await Promise.allSettled([
        ctx.queue.approve(id, BOB, 'ok'),
        other.approve(id, CAROL, 'ok'),
      ]);
      assert.deepEqual(settledCodes(results), ['PDK_REVIEW_CLOSED', 'ok']);
      const view = await ctx.queue.show(id);
      assert.deepEqual([view.status, view.approvals.length], ['approved', 1]);
      assert.equal(ctx.audit.take().filter((name) => name === 'review.approved').length, 1);
    });

    it('three approvals at once with minApprovals 2: exactly two are counted', async () => {
      const id = await expectPending(ctx.queue, heldCall({ gate: { ...heldCall().gate, minApprovals: 2 } }));
      const [second, third] = [await ctx.replica(), await ctx.replica()];
      const results = await Promise.allSettled([
        ctx.queue.approve(id, BOB, 'ok'),
        second.approve(id, CAROL, 'ok'),
        third.approve(id, LEAD, 'ok'),
      ]);
      assert.deepEqual(settledCodes(results), ['PDK_REVIEW_CLOSED', 'ok', 'ok']);
      const view = await ctx.queue.show(id);
      assert.deepEqual([view.status, view.approvals.length], ['approved', 2]);
      assert.ok(view.decidedBy && view.approvals.some((a) => a.reviewer === view.decidedBy));
    });

    it('an approval and a deny at once: exactly one decides', async () => {
      const id = await expectPending(ctx.queue, heldCall());
      const other = await ctx.replica();
      const results = await Promise.allSettled([
        ctx.queue.approve(id, BOB, 'ok'),
        other.deny(id, CAROL, 'no'),
      ]);
      assert.deepEqual(settledCodes(results), ['PDK_REVIEW_CLOSED', 'ok']);
      const view = await ctx.queue.show(id);
      assert.ok(['approved', 'denied'].includes(view.status));
      assert.equal(view.approvals.length, view.status === 'approved' ? 1 : 0);
    });

    it('approvals at the timeout, racing the sweeper: refused, expired once', async () => {
      const id = await expectPending(ctx.queue, heldCall());
      ctx.audit.take();
      ctx.clock.t += 4 * HOUR;
      const other = await ctx.replica();
      const results = await Promise.allSettled([
        ctx.queue.approve(id, BOB, 'late'),
        other.approve(id, CAROL, 'late'),
        ctx.queue.expireDue(),
        other.expireDue(),
      ]);
      assert.deepEqual(settledCodes(results.slice(0, 2)), ['PDK_REVIEW_EXPIRED', 'PDK_REVIEW_EXPIRED']);
      assert.deepEqual(ctx.audit.take(), ['review.expired']);
      assert.deepEqual(
        [(await ctx.queue.show(id)).status, (await ctx.queue.show(id)).approvals],
        ['expired', []],
      );
    });

    it('an approval for changed arguments does not unlock the new call, even when they race', async () => {
      const original = heldCall();
      const changed = heldCall({ arguments: { owner: 'o', repo: 'r', pull_number: 8, body: 'LGTM' } });
      const id = await expectPending(ctx.queue, original);
      const other = await ctx.replica();
      const [approval, attempt] = await Promise.all([
        ctx.queue.approve(id, BOB, 'ok'),
        other.request(changed),
      ]);
      assert.equal(approval.status, 'approved');
      assert.equal(attempt.status, 'pending');
      assert.notEqual(attempt.reviewId, id);
      assert.equal((await other.request(changed)).status, 'pending');
      assert.equal((await other.request(original)).status, 'approved');
    });

    it('a self-approval racing a real approval: the self-approval is refused and only the real one counts', async () => {
      const id = await expectPending(ctx.queue, heldCall({ gate: { ...heldCall().gate, minApprovals: 2 } }));
      const other = await ctx.replica();
      const results = await Promise.allSettled([
        ctx.queue.approve(id, ADA, 'mine'),
        other.approve(id, BOB, 'ok'),
      ]);
      assert.deepEqual(settledCodes(results), ['PDK_REVIEW_SELF_APPROVAL', 'ok']);
      const view = await ctx.queue.show(id);
      assert.deepEqual(
        [view.status, view.approvals.map((a) => a.reviewer)],
        ['pending', ['bob@example.com']],
      );
    });

    it('concurrent retries of one approved call: exactly one goes through, the rest wait on one new request', async () => {
      const call = heldCall();
      const id = await expectPending(ctx.queue, call);
      await ctx.queue.approve(id, BOB, 'ok');
      const queues = [
        ctx.queue,
        await ctx.replica(),
        ctx.queue,
        await ctx.replica(),
        ctx.queue,
        await ctx.replica(),
      ];
      const answers: GateAnswer[] = await Promise.all(queues.map((queue) => queue.request(call)));
      const through = answers.filter((a) => a.status === 'approved');
      const waiting = answers.filter((a) => a.status === 'pending');
      assert.equal(through.length, 1);
      assert.equal(through[0]?.reviewId, id);
      assert.equal(waiting.length, answers.length - 1);
      assert.equal(new Set(waiting.map((a) => a.reviewId)).size, 1);
      assert.equal((await ctx.store.listReviewRequests()).length, 2);
    });

    it('concurrent first attempts of one call hold a single request', async () => {
      const call = heldCall();
      const queues = [ctx.queue, await ctx.replica(), ctx.queue, await ctx.replica()];
      const answers = await Promise.all(queues.map((queue) => queue.request(call)));
      assert.deepEqual(new Set(answers.map((a) => a.status)), new Set(['pending']));
      assert.equal(new Set(answers.map((a) => a.reviewId)).size, 1);
      assert.equal((await ctx.store.listReviewRequests()).length, 1);
      const names = ctx.audit.take();
      assert.equal(names.filter((n) => n === 'mcp.review_requested review_requested').length, 1);
      assert.equal(names.length, 4);
    });
  });
}
