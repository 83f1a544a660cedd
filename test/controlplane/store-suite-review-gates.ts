import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewReviewRequest, ReviewBinding } from '../../src/controlplane/index.ts';
import type { StoreContext } from './store-suite.ts';

// The store methods review gates rely on (schema 2): binding, votes, single-use consumption,
// timeouts, and the races between them; part of the shared suite, run on both backends.

const HOUR = 3_600_000;
const BINDING: ReviewBinding = { workspaceId: 'ws-ada', sessionId: 's-1', argumentDigest: 'sha256:call' };

function request(ctx: StoreContext, overrides: Partial<NewReviewRequest> = {}): NewReviewRequest {
  return {
    id: 'rv-g1',
    requester: 'ada@example.com',
    workspaceId: 'ws-ada',
    sessionId: 's-1',
    harness: 'claude-code',
    blueprint: 'code-review@1.3.0',
    tool: 'github/create_pending_review',
    action: 'mcp_call',
    resource: 'github/create_pending_review',
    arguments: { pr: 7 },
    argumentDigest: 'sha256:call',
    ruleIds: ['review-writes'],
    reviewers: ['group:appsec'],
    minApprovals: 2,
    onTimeout: 'deny',
    bundleId: 'b-1',
    bundleVersion: '7',
    expiresAt: ctx.clock.t + 4 * HOUR,
    ...overrides,
  };
}

async function seed(ctx: StoreContext, overrides: Partial<NewReviewRequest> = {}): Promise<void> {
  await ctx.store.createUser({ id: 'ada@example.com', displayName: 'Ada' });
  await ctx.store.createWorkspace({
    id: 'ws-ada',
    owner: 'ada@example.com',
    profile: 'p',
    provider: 'local',
    state: 'running',
  });
  await ctx.store.createReviewRequest(request(ctx, overrides));
}

const vote = (ctx: StoreContext, reviewer: string, verdict: 'approve' | 'deny' = 'approve') =>
  ctx.store.voteOnReviewRequest({
    requestId: 'rv-g1',
    reviewer,
    verdict,
    reason: `${reviewer} says ${verdict}`,
  });

export function describeStoreReviewGates(ctx: StoreContext): void {
  describe('review gates', () => {
    it('store the gate and binding with the request, and find the newest bound request', async () => {
      await seed(ctx);
      const found = await ctx.store.findBoundReviewRequest(BINDING);
      assert.deepEqual(
        found && [found.id, found.sessionId, found.harness, found.action, found.ruleIds, found.reviewers],
        ['rv-g1', 's-1', 'claude-code', 'mcp_call', ['review-writes'], ['group:appsec']],
      );
      assert.deepEqual(
        [found?.minApprovals, found?.onTimeout, found?.bundleId, found?.timedOut],
        [2, 'deny', 'b-1', false],
      );
      assert.equal(await ctx.store.findBoundReviewRequest({ ...BINDING, sessionId: 's-2' }), undefined);
      assert.equal(
        await ctx.store.findBoundReviewRequest({ ...BINDING, argumentDigest: 'sha256:other' }),
        undefined,
      );
    });

    it('keep one pending request per bound call', async () => {
      await seed(ctx);
      await assert.rejects(ctx.store.createReviewRequest(request(ctx, { id: 'rv-g2' })), {
        code: 'PDK_STORE_CONFLICT',
        message: 'a pending review request for this call already exists in session s-1',
      });
      await assert.rejects(ctx.store.createReviewRequest(request(ctx, { argumentDigest: 'sha256:x' })), {
        code: 'PDK_STORE_CONFLICT',
        message: 'review request rv-g1 already exists',
      });
      await ctx.store.createReviewRequest(request(ctx, { id: 'rv-g3', sessionId: 's-2' }));
    });

    it('decide approved at exactly minApprovals distinct approvals, even when they race', async () => {
      await seed(ctx);
      const other = await ctx.replica();
      const third = await ctx.replica();
      const results = await Promise.allSettled([
        vote(ctx, 'bob'),
        other.voteOnReviewRequest({
          requestId: 'rv-g1',
          reviewer: 'carol',
          verdict: 'approve',
          reason: 'ok',
        }),
        third.voteOnReviewRequest({ requestId: 'rv-g1', reviewer: 'dan', verdict: 'approve', reason: 'ok' }),
      ]);
      const fulfilled = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
      const rejected = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
      assert.equal(fulfilled.length, 2);
      assert.deepEqual(fulfilled.map((r) => r.approvals).sort(), [1, 2]);
      assert.deepEqual(fulfilled.map((r) => r.request.status).sort(), ['approved', 'pending']);
      assert.equal(rejected.length, 1);
      assert.equal(rejected[0].code, 'PDK_STORE_CONFLICT');
      assert.deepEqual(rejected[0].details, { reason: 'closed' });
      assert.equal((await ctx.store.listReviewApprovals('rv-g1')).length, 2);
      const decided = await ctx.store.getReviewRequest('rv-g1');
      assert.equal(decided?.status, 'approved');
      assert.ok(decided?.decidedBy && ['bob', 'carol', 'dan'].includes(decided.decidedBy));
    });

    it('count a reviewer once and let any deny decide', async () => {
      await seed(ctx);
      await vote(ctx, 'bob');
      await assert.rejects(vote(ctx, 'bob'), {
        code: 'PDK_STORE_CONFLICT',
        details: { reason: 'duplicate' },
      });
      const denied = await vote(ctx, 'carol', 'deny');
      assert.deepEqual(
        [denied.request.status, denied.request.decidedBy, denied.request.decisionReason, denied.approvals],
        ['denied', 'carol', 'carol says deny', 1],
      );
      await assert.rejects(vote(ctx, 'dan'), {
        code: 'PDK_STORE_CONFLICT',
        message: 'review request rv-g1 was already decided: denied',
      });
      await assert.rejects(
        ctx.store.voteOnReviewRequest({ requestId: 'rv-none', reviewer: 'x', verdict: 'deny', reason: 'r' }),
        {
          code: 'PDK_STORE_NOT_FOUND',
        },
      );
    });

    it('refuse votes after the timeout and expire by onTimeout, once', async () => {
      await seed(ctx);
      ctx.clock.t += 4 * HOUR;
      await assert.rejects(vote(ctx, 'bob'), {
        code: 'PDK_STORE_CONFLICT',
        message: 'review request rv-g1 has expired and can no longer be answered',
        details: { reason: 'expired' },
      });
      const other = await ctx.replica();
      const [a, b] = await Promise.all([
        ctx.store.expireReviewRequests(),
        other.expireReviewRequests({ id: 'rv-g1' }),
      ]);
      assert.deepEqual(
        [...a, ...b].map((r) => [r.id, r.status, r.timedOut, r.decidedAt]),
        [['rv-g1', 'expired', true, ctx.clock.t]],
      );
      await assert.rejects(vote(ctx, 'bob'), { details: { reason: 'expired' } });
    });

    it('approve by timeout under onTimeout allow, and not before the timeout', async () => {
      await seed(ctx, { onTimeout: 'allow' });
      assert.deepEqual(await ctx.store.expireReviewRequests(), []);
      ctx.clock.t += 4 * HOUR;
      const [expired] = await ctx.store.expireReviewRequests({ id: 'rv-g1' });
      assert.deepEqual([expired?.status, expired?.timedOut, expired?.decidedBy], ['approved', true, null]);
    });

    it('let exactly one of many concurrent consumers use an approval, within its use window', async () => {
      await seed(ctx, { minApprovals: 1 });
      assert.equal(await ctx.store.consumeReviewApproval(BINDING), undefined); // pending: nothing to use
      await vote(ctx, 'bob');
      assert.equal(
        await ctx.store.consumeReviewApproval({ ...BINDING, argumentDigest: 'sha256:changed' }),
        undefined,
      );
      assert.equal(await ctx.store.consumeReviewApproval({ ...BINDING, sessionId: 's-2' }), undefined);
      const replicas = [ctx.store];
      for (let i = 0; i < 7; i++) replicas.push(await ctx.replica());
      ctx.clock.t += 1;
      const used = await Promise.all(replicas.map((store) => store.consumeReviewApproval(BINDING)));
      const winners = used.filter((record) => record !== undefined);
      assert.equal(winners.length, 1);
      assert.deepEqual([winners[0]?.id, winners[0]?.consumedAt], ['rv-g1', ctx.clock.t]);
      assert.equal(await ctx.store.consumeReviewApproval(BINDING), undefined);
    });

    it('let an unused approval lapse one timeout period after its decision', async () => {
      await seed(ctx, { minApprovals: 1 });
      ctx.clock.t += HOUR;
      await vote(ctx, 'bob');
      ctx.clock.t += 4 * HOUR;
      assert.equal(await ctx.store.consumeReviewApproval(BINDING), undefined);
    });

    it('find the open request first, even when a used one was made in the same millisecond', async () => {
      await seed(ctx, { minApprovals: 1 });
      await vote(ctx, 'bob');
      await ctx.store.consumeReviewApproval(BINDING);
      for (const id of ['rv-a', 'rv-z']) {
        const store = ctx.store;
        await store.createReviewRequest(request(ctx, { id }));
        assert.equal((await store.findBoundReviewRequest(BINDING))?.id, id);
        await store.voteOnReviewRequest({ requestId: id, reviewer: 'bob', verdict: 'deny', reason: 'no' });
      }
      assert.equal((await ctx.store.findBoundReviewRequest(BINDING))?.status, 'denied');
    });

    it('check that only an approval can be consumed, in the schema itself', async () => {
      await seed(ctx);
      await assert.rejects(
        ctx.backend.sql(ctx.url, "UPDATE review_requests SET consumed_at = 1 WHERE id = 'rv-g1'"),
        /CHECK|check/,
      );
    });
  });
}
