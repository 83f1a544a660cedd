import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { OcsfEvent } from '../../src/audit/index.ts';
import {
  createDecisionPoint,
  type GateAnswer,
  type HeldCall,
  type ReviewGate,
} from '../../src/policy/index.ts';
import { type PdpServer, startPdpServer } from '../../src/supervisor/pdp/index.ts';
import { exampleBundles } from '../policy/pdp-fixtures.ts';

// The PDP socket's review gate (PdpServerOptions.review): a `review` decision becomes a held call
// whose gate answer decides, answers stay in request order while one waits, and a failing gate
// refuses the call. The gate is a scripted stand-in; the queue itself is tested in controlplane.

const root = mkdtempSync(join(tmpdir(), 'paddock-pdp-review-'));
chmodSync(root, 0o755);
const servers: PdpServer[] = [];
after(async () => {
  for (const server of servers) await server.close();
  rmSync(root, { recursive: true, force: true });
});

const REVIEWED = {
  action: 'http_request',
  method: 'POST',
  url: 'https://api.github.com/repos/acme/widgets/pulls/1/reviews',
};
const ALLOWED = { action: 'http_request', method: 'GET', url: 'https://api.github.com/repos/acme/widgets' };

async function serve(gate: ReviewGate, name: string) {
  const { bundle } = (await exampleBundles()).get('code-review')!;
  const events: OcsfEvent[] = [];
  const socketPath = join(root, name, 'pdp.sock');
  servers.push(
    await startPdpServer({
      socketPath,
      decisionPoint: createDecisionPoint(bundle),
      principal: { session: 'session-1', user: 'alice' },
      emit: (event) => events.push(event),
      audit: { workspaceId: 'ws-1', sessionId: 'session-1' },
      review: {
        gate,
        requester: { id: 'alice' },
        workspaceId: 'ws-1',
        blueprint: { name: 'code-review', version: '1.3.0' },
        spec: { reviewers: ['group:appsec'], minApprovals: 1, timeout: '4h', onTimeout: 'deny' },
      },
    }),
  );
  return { socketPath, events };
}

function ask(socketPath: string, requests: object[]): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath, () =>
      socket.write(requests.map((request, id) => `${JSON.stringify({ id, ...request })}\n`).join('')),
    );
    let buffer = '';
    socket.on('error', reject);
    socket.on('data', (data) => {
      buffer += data.toString();
      const lines = buffer.split('\n').filter(Boolean);
      if (lines.length === requests.length) {
        socket.end();
        resolve(lines.map((line) => JSON.parse(line) as Record<string, unknown>));
      }
    });
  });
}

describe('PDP socket review gate', () => {
  it('holds a review decision, answers in order while the gate waits, and maps each answer', async () => {
    const calls: HeldCall[] = [];
    const script: GateAnswer[] = [
      {
        status: 'pending',
        reviewId: 'rev-1',
        message: 'awaits review rev-1',
        expiresAt: '2030-01-01T00:00:00.000Z',
      },
      { status: 'approved', reviewId: 'rev-1', message: 'approved by bob' },
      { status: 'denied', reviewId: 'rev-1', message: 'denied by bob' },
    ];
    const gate: ReviewGate = {
      async request(call) {
        calls.push(call);
        await new Promise((resolve) => setTimeout(resolve, 30));
        return script.shift()!;
      },
    };
    const { socketPath, events } = await serve(gate, 'ok');
    const answers = await ask(socketPath, [REVIEWED, ALLOWED, REVIEWED, REVIEWED]);
    assert.deepEqual(
      answers.map((answer) => [answer['id'], answer['decision'], answer['reason']]),
      [
        [0, 'review', 'review_pending'],
        [1, 'allow', answers[1]!['reason']],
        [2, 'allow', 'review_approved'],
        [3, 'deny', 'review_denied'],
      ],
    );
    assert.deepEqual(answers[0]!['review'], {
      reviewId: 'rev-1',
      message: 'awaits review rev-1',
      expiresAt: '2030-01-01T00:00:00.000Z',
    });
    assert.equal(calls.length, 3);
    assert.equal(calls[0]!.resource, 'POST https://api.github.com/repos/acme/widgets/pulls/1/reviews');
    assert.equal(calls[0]!.sessionId, 'session-1');
    assert.equal(calls[0]!.requester.id, 'alice');
    assert.ok(calls[0]!.ruleIds.length > 0);
    assert.deepEqual(
      events
        .map((event) => (event as unknown as { status_code: string }).status_code)
        .filter((c) => c.startsWith('review')),
      ['review_pending', 'review_approved', 'review_denied'],
    );
  });

  it('refuses the call when the gate fails (fail closed)', async () => {
    const { socketPath } = await serve({ request: () => Promise.reject(new Error('store gone')) }, 'broken');
    const [answer] = await ask(socketPath, [REVIEWED]);
    assert.equal(answer!['decision'], 'deny');
    assert.equal(answer!['reason'], 'review_unavailable');
    assert.equal(answer!['detail'], 'the review queue failed; the call is refused');
  });
});
