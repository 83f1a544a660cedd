import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { heldCall } from '../review-queue-fixtures.ts';
import { exampleState, type Harness, startHarness } from './harness.ts';

// The review webhook (src/controlplane/http/review-webhook.ts) against a local HTTP receiver:
// one Slack-compatible notice per new request, retried after a failure, never holding up the call.

describe('review webhook', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-webhook-'));
  const received: { body: { text: string; blocks: unknown[] }; at: number }[] = [];
  let attempts = 0;
  const receiver = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      attempts++;
      // The first attempt is slow and fails: the held call must not wait for it, and it is retried.
      if (attempts === 1) {
        setTimeout(() => res.writeHead(503).end(), 300);
        return;
      }
      received.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')), at: Date.now() });
      res.writeHead(200).end('ok');
    });
  });
  let h: Harness;
  before(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/T000/B000/secret`;
    const state = await exampleState();
    const platform = state.platform!;
    h = await startHarness({
      storeUrl: `sqlite:${join(dir, 'store.db')}`,
      env: { PADDOCK_REVIEW_WEBHOOK: url },
      state: {
        ...state,
        platform: {
          ...platform,
          value: {
            ...platform.value,
            spec: { ...platform.value.spec, reviews: { webhook: { urlEnv: 'PADDOCK_REVIEW_WEBHOOK' } } },
          },
        },
      },
    });
    await h.store.createUser({ id: 'alice@example.com', displayName: 'Alice' });
    await h.store.createWorkspace({
      id: 'ws-alice',
      owner: 'alice@example.com',
      profile: 'p',
      provider: 'local',
      state: 'running',
    });
  });
  after(async () => {
    await h?.close();
    receiver.closeAllConnections();
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('posts one Slack-compatible notice per new request, retrying without blocking the call', async () => {
    const call = heldCall({
      requester: { id: 'alice@example.com' },
      workspaceId: 'ws-alice',
      decisionEvent: undefined,
    });
    const started = Date.now();
    const answer = await h.server.reviews.request(call);
    assert.equal(answer.status, 'pending');
    assert.ok(Date.now() - started < 250, 'the held call did not wait for the webhook');
    // The same call retried waits on the same request: no second notice.
    assert.equal((await h.server.reviews.request(call)).reviewId, answer.reviewId);
    await h.server.reviewWebhook?.idle();
    assert.equal(attempts, 2);
    assert.equal(received.length, 1);
    const { text, blocks } = received[0]!.body;
    assert.match(
      text,
      /^Review requested: alice@example.com wants github\/create_pending_review in workspace ws-alice/,
    );
    assert.ok(text.includes(`${h.origin}/reviews/${answer.reviewId}`));
    assert.ok(Array.isArray(blocks) && blocks.length > 0);
    assert.doesNotMatch(JSON.stringify(received[0]!.body), /ghp_secret|LGTM/); // no arguments
  });

  it('refuses to start when the webhook variable is unset or not an https URL', async () => {
    const state = await exampleState();
    const platform = state.platform!;
    const withWebhook = {
      ...state,
      platform: {
        ...platform,
        value: {
          ...platform.value,
          spec: { ...platform.value.spec, reviews: { webhook: { urlEnv: 'PADDOCK_REVIEW_WEBHOOK' } } },
        },
      },
    };
    for (const value of [undefined, 'not a url', 'http://hooks.example.com/T0/B0/x', 'ftp://127.0.0.1/x']) {
      await assert.rejects(
        startHarness({
          storeUrl: `sqlite:${join(dir, 'other.db')}`,
          env: value === undefined ? {} : { PADDOCK_REVIEW_WEBHOOK: value },
          state: withWebhook,
        }),
        (error: Error & { code?: string }) =>
          error.code === 'PDK_REVIEW_WEBHOOK_CONFIG' && /PADDOCK_REVIEW_WEBHOOK/.test(error.message),
        String(value),
      );
    }
  });
});
