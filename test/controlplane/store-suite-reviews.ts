import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEventRecord, NewReviewRequest } from '../../src/controlplane/index.ts';
import { canonicalJson } from '../../src/audit/chain/canonical-json.ts';
import { chainRecord, GENESIS_HASH, recordHashOfHashedText } from '../../src/audit/chain/record.ts';
import type { StoreContext } from './store-suite.ts';
import { describeStoreReviewGates } from './store-suite-review-gates.ts';

// Review requests, approvals and the audit table; part of the shared suite in store-suite.ts.

const HOUR = 3_600_000;
// Agents choose tool arguments: NUL, lone surrogates and odd keys must survive both backends.
const ARGUMENTS = { body: 'LGTM \u0000 \ud800 ✓', nested: { 'key with "quotes"': [1, 2.5, null, true] } };

async function seed(ctx: StoreContext): Promise<void> {
  await ctx.store.createUser({ id: 'ada@example.com', displayName: 'Ada' });
  await ctx.store.createWorkspace({
    id: 'ws-ada',
    owner: 'ada@example.com',
    profile: 'p',
    provider: 'local',
    state: 'running',
  });
  await ctx.store.createReviewRequest(seedRequest(ctx));
}

function seedRequest(ctx: StoreContext): NewReviewRequest {
  return {
    id: 'rv-1',
    requester: 'ada@example.com',
    workspaceId: 'ws-ada',
    blueprint: 'code-review@1.3.0',
    tool: 'github/create_pending_review',
    arguments: ARGUMENTS,
    argumentDigest: 'sha256:abc',
    expiresAt: ctx.clock.t + 4 * HOUR,
  };
}

// A real chain per source: the store checks every hash and link.
const chains = new Map<string, AuditEventRecord[]>();
function event(seq: number, source = 'ws-ada', uid = `${source}-${seq}`): AuditEventRecord {
  const key = `${source}/${uid}`;
  const list = chains.get(key) ?? [];
  chains.set(key, list);
  while (list.length < seq) {
    const n = list.length + 1;
    const body = {
      class_uid: 6003,
      metadata: { uid: n === seq ? uid : `${source}-${n}`, version: '1.4.0' },
      message: `é ${n}`,
      raw: '\u0000',
    };
    const record = chainRecord(n, Date.UTC(2025, 0, 1) + n, list.at(-1)?.hash ?? GENESIS_HASH, body);
    list.push({
      source,
      seq: n,
      uid: body.metadata.uid,
      classUid: 6003,
      time: record.time,
      event: body,
      prevHash: record.prev,
      hash: record.hash,
    });
  }
  return list[seq - 1] as AuditEventRecord;
}

export function describeStoreReviews(ctx: StoreContext): void {
  describe('review requests', () => {
    it('start pending with their redacted arguments intact', async () => {
      await seed(ctx);
      const request = await ctx.store.getReviewRequest('rv-1');
      assert.deepEqual(request, {
        id: 'rv-1',
        requester: 'ada@example.com',
        workspaceId: 'ws-ada',
        blueprint: 'code-review@1.3.0',
        tool: 'github/create_pending_review',
        arguments: ARGUMENTS,
        argumentDigest: 'sha256:abc',
        status: 'pending',
        createdAt: ctx.clock.t,
        expiresAt: ctx.clock.t + 4 * HOUR,
        decidedAt: null,
        decidedBy: null,
        sessionId: null,
        harness: null,
        action: '',
        resource: '',
        ruleIds: [],
        reviewers: [],
        minApprovals: 1,
        onTimeout: 'deny',
        bundleId: '',
        bundleVersion: '',
        decisionReason: null,
        timedOut: false,
        consumedAt: null,
      });
      assert.deepEqual(
        (await ctx.store.listReviewRequests({ status: 'pending', workspaceId: 'ws-ada' })).map((r) => r.id),
        ['rv-1'],
      );
      assert.deepEqual(await ctx.store.listReviewRequests({ status: 'approved' }), []);
      await assert.rejects(
        ctx.store.createReviewRequest({ ...seedRequest(ctx), id: 'rv-2', workspaceId: 'ws-none' }),
        {
          code: 'PDK_STORE_NOT_FOUND',
          message: 'review request workspace ws-none not found',
        },
      );
    });

    it('take each reviewer once, even at the same moment, then close', async () => {
      await seed(ctx);
      const other = await ctx.replica();
      const twice = await Promise.allSettled([
        ctx.store.addReviewApproval({ requestId: 'rv-1', reviewer: 'sec@example.com', comment: 'ok' }),
        other.addReviewApproval({ requestId: 'rv-1', reviewer: 'sec@example.com' }),
      ]);
      assert.deepEqual(twice.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      const rejected = twice.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.equal(rejected.reason.code, 'PDK_STORE_CONFLICT');
      assert.equal(
        rejected.reason.message,
        'sec@example.com already approved review request rv-1: each approval must come from a different reviewer',
      );
      ctx.clock.t += 1;
      await ctx.store.addReviewApproval({ requestId: 'rv-1', reviewer: 'lead@example.com' });
      assert.deepEqual(
        (await ctx.store.listReviewApprovals('rv-1')).map((a) => a.reviewer),
        ['sec@example.com', 'lead@example.com'],
      );

      const decided = await ctx.store.decideReviewRequest('rv-1', 'approved', 'lead@example.com');
      assert.deepEqual(
        [decided.status, decided.decidedAt, decided.decidedBy],
        ['approved', ctx.clock.t, 'lead@example.com'],
      );
      await assert.rejects(ctx.store.decideReviewRequest('rv-1', 'denied'), {
        code: 'PDK_STORE_CONFLICT',
        message: 'review request rv-1 was already decided: approved',
      });
      await assert.rejects(ctx.store.addReviewApproval({ requestId: 'rv-1', reviewer: 'late@example.com' }), {
        code: 'PDK_STORE_CONFLICT',
        message: 'review request rv-1 was already decided: approved',
      });
      await assert.rejects(ctx.store.addReviewApproval({ requestId: 'rv-none', reviewer: 'a@example.com' }), {
        code: 'PDK_STORE_NOT_FOUND',
        message: 'review request rv-none not found',
      });
    });

    it('enforce distinct reviewers in the schema itself', async () => {
      await seed(ctx);
      const insert =
        "INSERT INTO review_approvals (request_id, reviewer, created_at) VALUES ('rv-1', 'sec@example.com', 1)";
      await ctx.backend.sql(ctx.url, insert);
      await assert.rejects(ctx.backend.sql(ctx.url, insert), /unique|UNIQUE|duplicate key/);
    });

    it('refuse approvals after the gate timed out, but let the sweeper expire it', async () => {
      await seed(ctx);
      ctx.clock.t += 4 * HOUR;
      await assert.rejects(ctx.store.addReviewApproval({ requestId: 'rv-1', reviewer: 'sec@example.com' }), {
        code: 'PDK_STORE_CONFLICT',
        message: 'review request rv-1 has expired and can no longer be approved',
      });
      const expired = await ctx.store.decideReviewRequest('rv-1', 'expired');
      assert.deepEqual([expired.status, expired.decidedBy], ['expired', null]);
    });
  });

  describeStoreReviewGates(ctx);

  describe('audit events', () => {
    it('append idempotently by uid and read in seq order', async () => {
      assert.deepEqual(await ctx.store.appendAuditEvents([event(2), event(1), event(3)]), {
        inserted: 3,
        skipped: 0,
        heads: [{ source: 'ws-ada', seq: 3, hash: event(3).hash }],
      });
      assert.deepEqual(await ctx.store.appendAuditEvents([event(1), event(2), event(3), event(4)]), {
        inserted: 1,
        skipped: 3,
        heads: [{ source: 'ws-ada', seq: 4, hash: event(4).hash }],
      });
      await ctx.store.appendAuditEvents([event(1, 'other')]);
      assert.deepEqual(await ctx.store.readAuditEvents({ source: 'ws-ada' }), [
        event(1),
        event(2),
        event(3),
        event(4),
      ]);
      assert.deepEqual(
        (await ctx.store.readAuditEvents({ source: 'ws-ada', afterSeq: 1, limit: 2 })).map((e) => e.seq),
        [2, 3],
      );
      assert.deepEqual(await ctx.store.lastAuditEvent('ws-ada'), event(4));
      assert.equal(await ctx.store.lastAuditEvent('nobody'), undefined);
      assert.deepEqual(await ctx.store.appendAuditEvents([]), { inserted: 0, skipped: 0, heads: [] });
    });

    it('refuse a forked or forged chain and store nothing of that batch', async () => {
      await ctx.store.appendAuditEvents([event(1), event(2)]);
      const forged = { ...event(2), event: { ...(event(2).event as object), message: 'forged' } };
      await assert.rejects(ctx.store.appendAuditEvents([event(3), forged]), {
        code: 'PDK_AUDIT_CHAIN_BROKEN',
        message:
          'audit event seq 2 of source ws-ada (uid ws-ada-2) does not match its hash: ' +
          'edited or corrupted in transit; nothing in this batch was stored',
      });
      await assert.rejects(ctx.store.appendAuditEvents([event(3), event(2, 'ws-ada', 'fork-2')]), {
        code: 'PDK_STORE_CONFLICT',
        message:
          'audit source ws-ada already has a different event at seq 2 (uploaded uid fork-2): ' +
          'the chain forked; nothing in this batch was stored',
      });
      assert.deepEqual(
        (await ctx.store.readAuditEvents({ source: 'ws-ada' })).map((e) => e.seq),
        [1, 2],
      );
    });

    it('store a batch of several hundred in seq order, and refuse one whose uid is already taken', async () => {
      // 300 events: SQLite writes them in multi-row statements (128 + 128 + 32 + 8 + 4).
      const many = Array.from({ length: 300 }, (_, i) => event(i + 1, 'ws-many'));
      assert.deepEqual(await ctx.store.appendAuditEvents(many), {
        inserted: 300,
        skipped: 0,
        heads: [{ source: 'ws-many', seq: 300, hash: event(300, 'ws-many').hash }],
      });
      assert.deepEqual(await ctx.store.readAuditEvents({ source: 'ws-many', limit: 1000 }), many);
      const log = await ctx.store.readAuditLog({ limit: 1000 });
      assert.deepEqual(
        log.map((e) => [e.gseq, e.seq]),
        many.map((_, i) => [i + 1, i + 1]),
      );
      // What verification reads: the text each hash covers, assembled by the database.
      const links = await ctx.store.readAuditChainLinks({ limit: 1000 });
      assert.deepEqual(
        links.map((link) => recordHashOfHashedText(link.hashed)),
        many.map((e) => e.hash),
      );
      const first = many[0] as AuditEventRecord;
      assert.equal(
        links[0]?.hashed,
        `{"event":${canonicalJson(first.event)},"prev":"${GENESIS_HASH}","seq":1,"time":${first.time}}`,
      );
      assert.deepEqual(
        (await ctx.store.readAuditChainLinks({ afterGseq: 10, uptoGseq: 12 })).map((l) => [l.gseq, l.uid]),
        [
          [11, 'ws-many-11'],
          [12, 'ws-many-12'],
        ],
      );

      // Another source reusing a stored uid, 150 events in: the whole batch is refused.
      event(150, 'ws-bob', 'ws-many-7');
      const taken = chains.get('ws-bob/ws-many-7') as AuditEventRecord[];
      await assert.rejects(ctx.store.appendAuditEvents(taken), {
        code: 'PDK_STORE_CONFLICT',
        message:
          'audit event uid ws-many-7 is already stored with different content (source ws-many seq 7): ' +
          'nothing in this batch was stored',
      });
      // The same uid twice in one batch would leave a gap in the chain: refused as well.
      const twice = [event(2, 'ws-eve', 'ws-eve-1'), event(1, 'ws-eve', 'ws-eve-1')];
      await assert.rejects(ctx.store.appendAuditEvents(twice), {
        code: 'PDK_STORE_CONFLICT',
        message:
          'audit event uid ws-eve-1 is already stored with different content (source ws-eve seq 1): ' +
          'nothing in this batch was stored',
      });
      assert.deepEqual(await ctx.store.readAuditEvents({ source: 'ws-bob' }), []);
      assert.deepEqual(await ctx.store.readAuditEvents({ source: 'ws-eve' }), []);
      assert.equal((await ctx.store.auditSnapshot()).gseq, 300);
    });

    it('reject malformed events before writing', async () => {
      await assert.rejects(ctx.store.appendAuditEvents([event(1), { ...event(2), seq: 0, time: 1.5 }]), {
        code: 'PDK_AUDIT_EVENT_INVALID',
        message:
          'audit event 1 (uid ws-ada-2): seq 0 is not an integer >= 1; time 1.5 is not integer milliseconds',
      });
      assert.deepEqual(await ctx.store.readAuditEvents({ source: 'ws-ada' }), []);
    });
  });
}
