import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChannelServer, IdentityRegistry } from '../../../src/controlplane/channel/index.ts';
import { openStore, type Store } from '../../../src/controlplane/index.ts';
import { ReviewQueue } from '../../../src/controlplane/reviews/queue.ts';
import {
  CLOSE,
  encodeMessage,
  type HeldCallMessage,
  signChannelCredential,
} from '../../../src/core/channel/index.ts';
import { type Dialled, dialAndHello } from './channel-support.ts';

// The control plane's side of review-gated calls over the workspace channel, with a raw
// WebSocket playing a (possibly compromised) supervisor frame by frame, a real ChannelServer,
// and a real ReviewQueue over a real SQLite store. What must hold: calls are held in the queue
// for the connection's own workspace only, in the name of a user it opened a terminal for.

const WS = 'ws-rev-a';
const OTHER = 'ws-rev-b';
const ADA = 'ada@example.com';
const BOB = { id: 'bob@example.com', groups: ['engineering-leads'] };

function heldCall(overrides: Partial<HeldCallMessage> = {}): HeldCallMessage {
  return {
    requester: { id: ADA },
    workspaceId: WS,
    sessionId: 'sess-1',
    blueprint: { name: 'coding-agent', version: '1.2.0' },
    bundle: { id: 'coding-agent:abc', version: '1.2.0' },
    action: 'http_request',
    resource: 'POST https://api.github.com/repos/acme/app/pulls',
    tool: 'http_request',
    ruleIds: ['writes[0].review'],
    gate: { reviewers: ['group:engineering-leads'], minApprovals: 1, timeout: '4h', onTimeout: 'deny' },
    ...overrides,
  };
}

describe('review requests over the workspace channel (real server, queue and store; raw supervisor)', () => {
  let dir: string;
  let store: Store;
  let queue: ReviewQueue;
  let server: ChannelServer;
  let registry: IdentityRegistry;
  let supervisor: Dialled;
  const events: Record<string, unknown>[] = [];
  let nextId = 1;

  const ask = async (call: HeldCallMessage) => {
    const requestId = nextId++;
    supervisor.ws.send(encodeMessage({ t: 'review_request', requestId, call }));
    // The answer to this request, whichever kind (review_answer or review_failed).
    for (let waited = 0; waited < 5000; waited += 10) {
      const index = supervisor.messages.findIndex((message) => message['requestId'] === requestId);
      if (index >= 0) return supervisor.messages.splice(index, 1)[0] as Record<string, unknown>;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no answer to review request ${requestId}`);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paddock-channel-reviews-'));
    store = await openStore({ url: `sqlite:${join(dir, 'store.db')}` });
    await store.createUser({ id: ADA, displayName: 'Ada' });
    await store.createUser({ id: 'eve@example.com', displayName: 'Eve' });
    for (const [id, owner] of [
      [WS, ADA],
      [OTHER, 'eve@example.com'],
    ] as const)
      await store.createWorkspace({
        id,
        owner,
        profile: 'standard-local',
        provider: 'local',
        state: 'running',
      });
    queue = new ReviewQueue({ store, audit: async (event) => events.push(event) });
    registry = new IdentityRegistry();
    server = await ChannelServer.start({ registry, reviews: queue });
    const identity = await registry.issue(WS);
    supervisor = await dialAndHello(server.url, await signChannelCredential(identity), WS);
    // The control plane opens a terminal for Ada: the supervisor may now file her held calls.
    const opening = server
      .target(WS)
      .open({ cols: 80, rows: 24, mode: 'shell', userId: ADA, attachId: 'at-1' });
    const open = await supervisor.next('open');
    supervisor.ws.send(encodeMessage({ t: 'opened', stream: open['stream'] as number }));
    await opening;
  });
  after(async () => {
    supervisor.ws.close();
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds a call, answers pending; once approved it goes through once, then is held again', async () => {
    const first = await ask(heldCall());
    assert.equal(first['t'], 'review_answer');
    const answer = first['answer'] as { status: string; reviewId: string; message: string };
    assert.equal(answer.status, 'pending');
    assert.match(answer.reviewId, /^rv-/);
    assert.deepEqual(first['steps'], [
      { decision: 'review', reasonCode: 'review_requested', reason: answer.message },
    ]);
    const view = await queue.show(answer.reviewId);
    assert.deepEqual([view.workspaceId, view.requester, view.status], [WS, ADA, 'pending']);

    await queue.approve(answer.reviewId, BOB, 'looks right');
    const approved = await ask(heldCall());
    assert.deepEqual(
      [
        (approved['answer'] as { status: string }).status,
        (approved['answer'] as { reviewId: string }).reviewId,
      ],
      ['approved', answer.reviewId],
    );
    const again = await ask(heldCall());
    const held = again['answer'] as { status: string; reviewId: string };
    assert.equal(held.status, 'pending');
    assert.notEqual(held.reviewId, answer.reviewId);
    // The queue audits the approval; the held call's own decision event is the supervisor's (the steps).
    assert.ok(
      events.some((event) => (event['metadata'] as { event_code?: string }).event_code === 'review.approved'),
    );
  });

  it('refuses a call filed for another workspace; nothing is held there', async () => {
    const before = (await queue.list()).length;
    const reply = await ask(heldCall({ workspaceId: OTHER, sessionId: 'sess-x' }));
    assert.equal(reply['t'], 'review_failed');
    assert.match(reply['message'] as string, /cannot file reviews for another workspace/);
    const all = await queue.list();
    assert.equal(all.length, before);
    assert.ok(all.every((review) => review.workspaceId === WS));
    // The connection stays usable: the workspace's own calls are still held.
    assert.equal((await ask(heldCall({ sessionId: 'sess-2' })))['t'], 'review_answer');
  });

  it("refuses a call in the name of someone the control plane opened no terminal for (the reviewer's)", async () => {
    const reply = await ask(heldCall({ requester: { id: BOB.id }, sessionId: 'sess-3' }));
    assert.equal(reply['t'], 'review_failed');
    assert.match(reply['message'] as string, /no terminal of bob@example.com/);
    assert.ok((await queue.list()).every((review) => review.requester === ADA));
  });

  it('passes on the queue refusing a call (PDK_REVIEW_INVALID for a gate it cannot parse)', async () => {
    const reply = await ask(
      heldCall({
        sessionId: 'sess-4',
        gate: { reviewers: [], minApprovals: 1, timeout: 'soon', onTimeout: 'deny' },
      }),
    );
    assert.equal(reply['t'], 'review_failed');
    assert.match(reply['message'] as string, /^PDK_REVIEW_INVALID: /);
  });

  it('closes the connection on a held call with unknown fields or over its bounds', async () => {
    for (const call of [
      { ...heldCall(), decisionEvent: 'x' },
      { ...heldCall(), requester: { id: ADA, groups: ['engineering-leads'] } },
      heldCall({ resource: 'x'.repeat(8193) }),
      heldCall({ arguments: { blob: 'x'.repeat(128 * 1024) } }),
    ]) {
      const identity = await registry.issue(WS);
      const raw = await dialAndHello(server.url, await signChannelCredential(identity), WS);
      raw.ws.send(JSON.stringify({ t: 'review_request', requestId: 1, call }));
      assert.equal(await raw.closed, CLOSE.protocol);
    }
  });

  it('refuses every review request when the control plane was started without a queue', async () => {
    const bareRegistry = new IdentityRegistry();
    const bare = await ChannelServer.start({ registry: bareRegistry });
    try {
      const identity = await bareRegistry.issue(WS);
      const raw = await dialAndHello(bare.url, await signChannelCredential(identity), WS);
      raw.ws.send(encodeMessage({ t: 'review_request', requestId: 9, call: heldCall() }));
      const reply = await raw.next('review_failed');
      assert.match(reply['message'] as string, /no review queue/);
      raw.ws.close();
    } finally {
      await bare.close();
    }
  });
});
