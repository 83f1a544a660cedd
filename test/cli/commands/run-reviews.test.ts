// `paddock run` with review gates, end to end: a REAL sandbox whose PDP socket holds a
// review-gated request in the run's review queue (startStandaloneReviews), `paddock review
// approve` from outside as another user, then the identical request allowed once and held again.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OcsfEvent } from '../../../src/audit/index.ts';
import { type StandaloneReviews, startStandaloneReviews } from '../../../src/cli/standalone-reviews.ts';
import { loadRepository, resolveBlueprint } from '../../../src/config/index.ts';
import { runStandalone } from '../../../src/supervisor/index.ts';
import { makeWorkspace } from '../../support/sandbox-harness.ts';
import { runCli } from './run-cli.ts';

const BLUEPRINT = `apiVersion: paddock.dev/v1
kind: Blueprint
metadata: { name: review-e2e, version: 1.0.0, owner: dev@example.com, incidentContact: sec@example.com, reviewCadence: 90d }
spec:
  goal: Review gate wiring test.
  services:
    - name: api
      hosts: [api.example.test]
      access: read-write
  writes:
    - { service: api, methods: [POST], paths: ["/repos/*/*/pulls"], review: required }
  reviewGates: { reviewers: ["group:appsec"], minApprovals: 1, timeout: 1h }
  dataScope: { read: [/workspace, ${dirname(dirname(process.execPath))}], write: [], deny: [] }
`;

// Runs inside the sandbox: the same http_request decision three times; before the second it
// waits (up to 20 s) for the host to approve and drop /workspace/approved.
const CLIENT = `
const net = require('node:net');
const fs = require('node:fs');
const ask = () => new Promise((resolve, reject) => {
  const socket = net.connect('/run/paddock/pdp.sock', () => socket.write(JSON.stringify(
    { id: 1, action: 'http_request', method: 'POST', url: 'https://api.example.test/repos/acme/widgets/pulls' }) + '\\n'));
  let buffered = '';
  socket.on('data', (chunk) => { buffered += chunk; if (buffered.includes('\\n')) { socket.end(); resolve(buffered); } });
  socket.on('error', reject);
});
(async () => {
  process.stdout.write(await ask());
  for (let i = 0; i < 200 && !fs.existsSync('/workspace/approved'); i++) await new Promise((r) => setTimeout(r, 100));
  process.stdout.write(await ask());
  process.stdout.write(await ask());
})();
`;

describe('paddock run: review-gated PDP decisions held for paddock review', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pdk-run-reviews-'));
  const config = makeWorkspace('pdk-run-reviews-cfg-');
  const workspace = makeWorkspace('pdk-run-reviews-ws-');
  const socket = join(dir, 'reviews', 'review.sock');
  const events: Record<string, unknown>[] = [];
  let reviews: StandaloneReviews;
  let answers: Record<string, unknown>[] = [];
  let approval = { code: -1, stdout: '', stderr: '' };
  let output = '';
  let exitCode = -1;

  before(async () => {
    mkdirSync(join(config.dir, 'blueprints'));
    writeFileSync(join(config.dir, 'blueprints', 'review.yaml'), BLUEPRINT);
    writeFileSync(join(workspace.dir, 'client.js'), CLIENT);
    const loaded = await loadRepository(config.dir);
    const resolved = resolveBlueprint(loaded.state, 'review-e2e');
    reviews = await startStandaloneReviews({
      requester: { id: 'ada' },
      socketPath: socket,
      audit: async (event) => events.push(event),
      groupsOf: async (account) => (account === 'bob' ? ['appsec'] : []),
    });
    // The reviewer's side: approve the first pending request as bob, then let the agent retry.
    const approver = (async () => {
      for (let i = 0; i < 200; i++) {
        const [pending] = await reviews.queue.list({ status: 'pending' });
        if (pending) {
          approval = await runCli(
            ['review', 'approve', pending.id, '--reason', 'ok', '--as', 'bob', '--socket', socket],
            dir,
          );
          writeFileSync(join(workspace.dir, 'approved'), '');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const result = await runStandalone({
      command: ['node', 'client.js'],
      workdir: workspace.dir,
      dataScope: resolved.blueprint.spec.dataScope!,
      resolved,
      policies: loaded.state.policies,
      user: 'ada',
      workspaceId: reviews.workspaceId,
      reviewGate: reviews.gate,
      hostEnv: {},
      stdio: ['ignore', 'pipe', 'pipe'],
      onStarted: (sandbox) => {
        sandbox.child.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        sandbox.child.stderr?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
      },
      audit: async (event: OcsfEvent) => {
        events.push(event as unknown as Record<string, unknown>);
      },
    });
    await approver;
    exitCode = result.exitCode;
    answers = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  });

  after(async () => {
    await reviews?.close();
    config.remove();
    workspace.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the gated request pending with a review id, then allows it once after approval', async () => {
    assert.equal(exitCode, 0, output);
    assert.equal(answers.length, 3, output);
    const [first, second, third] = answers as [
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    const held = first['review'] as { reviewId: string; message: string; expiresAt: string };
    assert.equal(first['decision'], 'review', output);
    assert.equal(first['reason'], 'review_pending');
    assert.match(held.reviewId, /\S/);
    assert.match(held.message, /review/i);
    assert.ok(Number.isFinite(Date.parse(held.expiresAt)));
    assert.equal(approval.code, 0, approval.stderr);
    assert.match(approval.stdout, new RegExp(`^approved ${held.reviewId} \\(1/1 approvals\\)`));
    assert.equal(second['decision'], 'allow', output);
    assert.equal(second['reason'], 'review_approved');
    assert.equal((second['review'] as { reviewId: string }).reviewId, held.reviewId);
    // The approval is used up: the identical request is held again, as a new review.
    assert.equal(third['decision'], 'review', output);
    assert.equal(third['reason'], 'review_pending');
    assert.notEqual((third['review'] as { reviewId: string }).reviewId, held.reviewId);
  });

  it('records the held call for bob, not the requester, and audits each PDP answer', async () => {
    const [view] = await reviews.queue.list({ status: 'approved' });
    assert.equal(view?.requester, 'ada');
    assert.equal(view?.action, 'http_request');
    assert.equal(view?.resource, 'POST https://api.example.test/repos/acme/widgets/pulls');
    assert.equal(view?.consumedAt !== null, true);
    const codes = events
      .map((event) => (event as { status_code?: string }).status_code)
      .filter((code) => code?.startsWith('review_'));
    assert.deepEqual(codes, ['review_pending', 'review_approved', 'review_pending']);
  });
});
