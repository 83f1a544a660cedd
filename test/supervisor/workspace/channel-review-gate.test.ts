import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OcsfEvent } from '../../../src/audit/index.ts';
import { ChannelServer, IdentityRegistry } from '../../../src/controlplane/channel/index.ts';
import { openStore, type Store } from '../../../src/controlplane/index.ts';
import { ReviewQueue } from '../../../src/controlplane/reviews/queue.ts';
import { writeIdentityFile } from '../../../src/core/channel/index.ts';
import { isPaddockError } from '../../../src/core/errors.ts';
import {
  createDecisionPoint,
  type GateDecision,
  type HeldCall,
  type ReviewGate,
} from '../../../src/policy/index.ts';
import { startPdpServer } from '../../../src/supervisor/pdp/index.ts';
import { ChannelClient } from '../../../src/supervisor/workspace/channel-client.ts';
import { ChannelReviewGate } from '../../../src/supervisor/workspace/channel-review-gate.ts';
import { plainPtyShell } from '../../controlplane/channel/plain-pty-shell.ts';
import { exampleBundles } from '../../policy/pdp-fixtures.ts';

// The supervisor's review gate over the real channel: a real ChannelClient dials a real
// ChannelServer whose review queue is a real ReviewQueue over a real SQLite store. It must
// answer as the queue does, audit the enforcement point's decision events locally, and fail
// closed (reject, so the enforcement point refuses the call) whenever no answer can come.

const WS = 'ws-gate';
const ADA = 'ada@example.com';

function heldCall(events: GateDecision[], overrides: Partial<HeldCall> = {}): HeldCall {
  return {
    requester: { id: ADA, name: 'Ada', groups: ['engineering-leads'] },
    workspaceId: WS,
    sessionId: 'sess-gate',
    blueprint: { name: 'coding-agent', version: '1.2.0' },
    bundle: { id: 'coding-agent:abc', version: '1.2.0' },
    action: 'http_request',
    resource: 'POST https://api.github.com/repos/acme/app/pulls',
    tool: 'http_request',
    arguments: { body: '{"title":"x"}' },
    ruleIds: ['writes[0].review'],
    gate: { reviewers: ['group:engineering-leads'], minApprovals: 1, timeout: '4h', onTimeout: 'deny' },
    decisionEvent: (decision) => {
      events.push(decision);
      return {
        metadata: { event_code: 'http.review' },
        message: decision.reason,
        correlation: decision.correlationUid,
      };
    },
    ...overrides,
  };
}

async function connect(
  server: ChannelServer,
  registry: IdentityRegistry,
  dir: string,
  gate: ChannelReviewGate,
) {
  writeIdentityFile(join(dir, 'identity.json'), await registry.issue(WS));
  const client = new ChannelClient({
    url: server.url,
    workspaceId: WS,
    identityFile: join(dir, 'identity.json'),
    openTerminal: async (request) => plainPtyShell(request.cols, request.rows),
    onReviewAnswer: (message) => gate.onAnswer(message),
    onDisconnected: () => gate.onDisconnected(),
  });
  client.start();
  await server.waitForConnection(WS, 10_000);
  // Ada's terminal: the control plane accepts held calls in her name from now on.
  const terminal = await server
    .target(WS)
    .open({ cols: 80, rows: 24, mode: 'shell', userId: ADA, attachId: 'a' });
  return { client, terminal };
}

describe('ChannelReviewGate: held calls in the control plane queue over the real channel', () => {
  let dir: string;
  let store: Store;
  let queue: ReviewQueue;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paddock-review-gate-'));
    store = await openStore({ url: `sqlite:${join(dir, 'store.db')}` });
    await store.createUser({ id: ADA, displayName: 'Ada' });
    await store.createWorkspace({
      id: WS,
      owner: ADA,
      profile: 'standard-local',
      provider: 'local',
      state: 'running',
    });
    queue = new ReviewQueue({ store, audit: async () => {} });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers as the queue does and audits the decision events on the supervisor side', async () => {
    const registry = new IdentityRegistry();
    const server = await ChannelServer.start({ registry, reviews: queue });
    const audited: OcsfEvent[] = [];
    let client: ChannelClient | undefined;
    const gate = new ChannelReviewGate({
      send: (message) => client?.sendReviewRequest(message) ?? false,
      audit: async (event) => audited.push(event),
    });
    const connected = await connect(server, registry, dir, gate);
    client = connected.client;
    try {
      const steps: GateDecision[] = [];
      const pending = await gate.request(heldCall(steps));
      assert.equal(pending.status, 'pending');
      assert.deepEqual(
        steps.map((step) => [step.decision, step.reasonCode, step.correlationUid]),
        [['review', 'review_requested', pending.reviewId]],
      );
      assert.equal(audited.length, 1);
      assert.equal((audited[0] as unknown as { correlation: string }).correlation, pending.reviewId);
      // Only the requester's id crosses: the supervisor cannot claim groups or names for her.
      const view = await queue.show(pending.reviewId);
      assert.deepEqual([view.requester, view.workspaceId], [ADA, WS]);

      await queue.approve(pending.reviewId, { id: 'bob@example.com', groups: ['engineering-leads'] }, 'ok');
      const approved = await gate.request(heldCall(steps));
      assert.deepEqual([approved.status, approved.reviewId], ['approved', pending.reviewId]);
      assert.equal(steps.at(-1)?.reasonCode, 'review_approved');
      assert.equal((await gate.request(heldCall(steps))).status, 'pending');
    } finally {
      connected.terminal.close();
      client.stop();
      await server.close();
    }
  });

  it('fails closed: not connected, connection lost, no answer in time, a call too large to send', async () => {
    const registry = new IdentityRegistry();
    // A control plane whose queue never answers (a stand-in for a hung one; the real queue answers at once).
    const hung: ReviewGate = { request: () => new Promise(() => {}) };
    const server = await ChannelServer.start({ registry, reviews: hung });
    let client: ChannelClient | undefined;
    const gate = new ChannelReviewGate({
      send: (message) => client?.sendReviewRequest(message) ?? false,
      audit: async () => {},
      timeoutMs: 300,
    });
    const refused = (pattern: RegExp) => (error: unknown) =>
      isPaddockError(error, 'PDK_CHANNEL_REVIEW') && pattern.test(error.message);

    // No channel at all yet: refused at once.
    const started = Date.now();
    await assert.rejects(
      gate.request(heldCall([])),
      refused(/needs review, but the control plane is not reachable: the call is refused/),
    );
    assert.ok(Date.now() - started < 250);

    const connected = await connect(server, registry, dir, gate);
    client = connected.client;
    await assert.rejects(gate.request(heldCall([])), refused(/did not answer within 300 ms/));
    await assert.rejects(
      gate.request(heldCall([], { arguments: { blob: 'x'.repeat(300 * 1024) } })),
      refused(/cannot be sent for review/),
    );
    assert.equal(client.connected, true, 'a call refused locally must not cost the workspace its channel');

    // The control plane goes away while a call waits: it is refused when the connection drops.
    const waiting = gate.request(heldCall([]));
    const waitingRefused = assert.rejects(
      waiting,
      refused(/connection was lost|not reachable|did not answer/),
    );
    await server.close();
    await waitingRefused;
    await assert.rejects(gate.request(heldCall([])), refused(/not reachable/));
    client.stop();
  });

  it("the PDP socket answers a workspace's unreachable queue with a deny that says so", async () => {
    const gate = new ChannelReviewGate({ send: () => false, audit: async () => {} });
    const { bundle } = (await exampleBundles()).get('coding-agent')!;
    chmodSync(dir, 0o755);
    const socketPath = join(dir, 'pdp.sock');
    const server = await startPdpServer({
      socketPath,
      decisionPoint: createDecisionPoint(bundle),
      principal: { session: 'sess-pdp', user: ADA },
      emit: () => {},
      audit: { workspaceId: WS, sessionId: 'sess-pdp' },
      review: {
        gate,
        requester: { id: ADA },
        workspaceId: WS,
        blueprint: { name: 'coding-agent', version: '1.2.0' },
        spec: { reviewers: ['group:engineering-leads'], minApprovals: 1, timeout: '4h', onTimeout: 'deny' },
      },
    });
    try {
      const answer = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const socket = createConnection(socketPath, () =>
          socket.write(
            `${JSON.stringify({ id: 1, action: 'http_request', method: 'POST', url: 'https://api.github.com/repos/acme/app/pulls' })}\n`,
          ),
        );
        let buffer = '';
        socket.on('error', reject);
        socket.on('data', (data) => {
          buffer += data.toString();
          if (buffer.includes('\n')) {
            socket.end();
            resolve(JSON.parse(buffer) as Record<string, unknown>);
          }
        });
      });
      assert.deepEqual([answer['decision'], answer['reason']], ['deny', 'review_unavailable']);
      assert.match(
        answer['detail'] as string,
        /needs review, but the control plane is not reachable: the call is refused/,
      );
    } finally {
      await server.close();
    }
  });
});
