// `paddock run` with a review-gated write, end to end: in a REAL sandbox, curl's POST goes
// through the run's egress gateway, which holds it in the run's review queue (as the CLI wires
// it) and answers review_pending; the host approves; the identical POST then reaches the local
// TLS server once, and the next one is held again.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OcsfEvent } from '../../src/audit/index.ts';
import { type StandaloneReviews, startStandaloneReviews } from '../../src/cli/standalone-reviews.ts';
import { loadRepository, resolveBlueprint } from '../../src/config/index.ts';
import { runStandalone, staticResolver } from '../../src/supervisor/index.ts';
import { makeWorkspace } from '../support/sandbox-harness.ts';
import { startUpstream, UPSTREAM_CA, type Upstream } from './egress-fixtures.ts';
import { sections } from './egress-sandbox-support.ts';

const blueprintYaml = (port: number) => `apiVersion: paddock.dev/v1
kind: Blueprint
metadata: { name: egress-review-e2e, version: 1.0.0, owner: dev@example.com, incidentContact: sec@example.com, reviewCadence: 90d }
spec:
  goal: Egress review wiring test.
  services:
    - name: api
      hosts: [api.example.test]
      ports: [${port}]
      access: read-write
      cidrs: [127.0.0.0/8]
  writes:
    - { service: api, methods: [POST], paths: ["/repos/*/*/pulls"], review: required }
  reviewGates: { reviewers: ["group:appsec"], minApprovals: 1, timeout: 1h }
  dataScope: { read: [/workspace], write: [/workspace], deny: [] }
`;

describe('paddock run: the egress gateway holds a review-gated write for paddock review', () => {
  let upstream: Upstream;
  let reviews: StandaloneReviews;
  const config = makeWorkspace('pdk-egress-review-cfg-');
  const workspace = makeWorkspace('pdk-egress-review-ws-');
  const dir = mkdtempSync(join(tmpdir(), 'pdk-egress-review-'));
  const events: Record<string, unknown>[] = [];
  const body = '{"title":"Add review gate","head":"feature"}';
  let output = '';
  let exitCode = -1;
  let approvedId = '';

  before(async () => {
    upstream = await startUpstream({ tls: true });
    mkdirSync(join(config.dir, 'blueprints'));
    writeFileSync(join(config.dir, 'blueprints', 'e2e.yaml'), blueprintYaml(upstream.port));
    const loaded = await loadRepository(config.dir);
    const resolved = resolveBlueprint(loaded.state, 'egress-review-e2e');
    reviews = await startStandaloneReviews({
      requester: { id: 'ada' },
      socketsDir: join(dir, 'reviews'),
      audit: async (event) => events.push(event),
      groupsOf: async (account) => (account === 'bob' ? ['appsec'] : []),
    });
    const url = `https://api.example.test:${upstream.port}/repos/acme/widgets/pulls`;
    const post = `curl -sS --max-time 20 -X POST -H 'Content-Type: application/json' --data-binary '${body}' ${url}; echo`;
    const script = [
      `echo "=== held"; ${post}`,
      'for i in $(seq 200); do [ -e /workspace/approved ] && break; sleep 0.1; done',
      `echo "=== approved"; ${post}`,
      `echo "=== again"; ${post}`,
    ].join('\n');
    // The reviewer: approve the first pending request as bob, then tell the agent.
    const reviewer = (async () => {
      for (let i = 0; i < 200; i++) {
        const [pending] = await reviews.queue.list({ status: 'pending' });
        if (pending) {
          approvedId = pending.id;
          await reviews.queue.approve(pending.id, { id: 'bob', groups: ['appsec'] }, 'fine to open');
          writeFileSync(join(workspace.dir, 'approved'), '');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const result = await runStandalone({
      command: ['/bin/sh', '-c', script],
      workdir: workspace.dir,
      dataScope: resolved.blueprint.spec.dataScope!,
      resolved,
      policies: loaded.state.policies,
      resolver: staticResolver({ 'api.example.test': ['127.0.0.1'] }),
      upstreamTls: { ca: UPSTREAM_CA.certPem },
      user: 'ada',
      reviewGate: reviews.gate,
      workspaceId: reviews.workspaceId,
      hookHarnesses: [],
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
    await reviewer;
    exitCode = result.exitCode;
  });

  after(async () => {
    await reviews.close();
    await upstream.close();
    config.remove();
    workspace.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the first POST with review_pending and holds it in the run queue', () => {
    assert.equal(exitCode, 0, output);
    const held = JSON.parse((sections(output)['held'] ?? '').trim()) as { error: string; review: string };
    assert.equal(held.error, 'review_pending', output);
    assert.equal(held.review, approvedId);
  });

  it('sends the identical POST once after approval, then holds it anew', () => {
    const approved = JSON.parse((sections(output)['approved'] ?? '').trim()) as {
      method: string;
      body: string;
    };
    assert.equal(approved.method, 'POST', output);
    assert.equal(approved.body, body);
    const again = JSON.parse((sections(output)['again'] ?? '').trim()) as { error: string; review: string };
    assert.equal(again.error, 'review_pending');
    assert.notEqual(again.review, approvedId);
    assert.equal(upstream.requests.filter((request) => request.method === 'POST').length, 1);
  });

  it('audits the hold, the approval and the one request that went out, correlated by review id', () => {
    const codes = events
      .filter((event) => (event['metadata'] as { correlation_uid?: string }).correlation_uid === approvedId)
      .map((event) => `${(event['metadata'] as { event_code: string }).event_code}:${event['status_code']}`);
    assert.ok(codes.includes('http.review_requested:review_requested'), codes.join(' '));
    assert.ok(
      codes.some((code) => code.startsWith('review.approved')),
      codes.join(' '),
    );
    assert.ok(codes.includes('http.allowed:review_approved'), codes.join(' '));
  });
});
