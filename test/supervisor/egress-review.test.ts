// Issue 5: the egress gateway holds review-gated writes in the real review queue (the one
// `paddock run` uses, over its own SQLite store) instead of refusing them. curl goes through
// the gateway to a local TLS server; a reviewer approves or denies through the queue.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type StandaloneReviews, startStandaloneReviews } from '../../src/cli/standalone-reviews.ts';
import type { ReviewGateSpec } from '../../src/policy/index.ts';
import type { HeldCallBase } from '../../src/supervisor/egress/index.ts';
import { assertValidOcsf } from '../audit/ocsf-schema.ts';
import {
  type GatewayFixture,
  pemFile,
  rawExchange,
  runClient,
  startGateway,
  startUpstream,
  type Upstream,
} from './egress-fixtures.ts';

const REQUESTER = { id: 'ada@example.com' };
const REVIEWER = { id: 'bob@example.com', groups: ['appsec'] };
const GATE: ReviewGateSpec = {
  reviewers: ['group:appsec'],
  minApprovals: 1,
  timeout: '4h',
  onTimeout: 'deny',
};
const REVIEWS_PATH = '/repos/a/b/pulls/1/reviews';

interface ReviewBody {
  error: string;
  review: string;
  rule: string;
  message: string;
  expiresAt?: string;
}

describe('egress gateway: review-gated writes are held for review', () => {
  let upstream: Upstream;
  let reviews: StandaloneReviews;
  let fx: GatewayFixture;
  let shortFx: GatewayFixture;
  let caFile: string;
  let shortCaFile: string;
  let api: string;
  const reviewEvents: Record<string, unknown>[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'pdk-egress-review-'));

  const base = (gate: ReviewGateSpec) => (): HeldCallBase => ({
    requester: REQUESTER,
    workspaceId: 'ws-test',
    sessionId: 'session-test',
    blueprint: { name: 'code-review', version: '1' },
    bundle: { id: 'bundle-test', version: '7' },
    gate,
    logging: { toolArguments: 'redacted', redact: ['ghp_[A-Za-z0-9]+'] },
  });
  const services = (port: number) => [
    {
      name: 'api',
      hosts: ['api.example.test'],
      ports: [port],
      access: 'read-write' as const,
      cidrs: ['127.0.0.0/8'],
    },
  ];
  const covers = ({ method, path }: { method: string; path: string }) =>
    method === 'POST' && path.endsWith('/reviews') ? 'writes[0].review' : undefined;

  before(async () => {
    upstream = await startUpstream({ tls: true });
    reviews = await startStandaloneReviews({
      requester: REQUESTER,
      audit: async (event) => reviewEvents.push(event),
      socketPath: join(dir, 'review.sock'),
      workspaceId: 'ws-test',
      groupsOf: async () => [],
    });
    fx = await startGateway({
      services: services(upstream.port),
      names: { 'api.example.test': ['127.0.0.1'] },
      reviewGate: covers,
      reviewQueue: { gate: reviews.gate, held: base(GATE) },
      limits: { maxReviewBodyBytes: 4096 },
    });
    shortFx = await startGateway({
      services: services(upstream.port),
      names: { 'api.example.test': ['127.0.0.1'] },
      reviewGate: covers,
      reviewQueue: { gate: reviews.gate, held: base({ ...GATE, timeout: '300ms' }) },
    });
    caFile = pemFile(fx.ca.certPem);
    shortCaFile = pemFile(shortFx.ca.certPem);
    api = `api.example.test:${upstream.port}`;
  });

  after(async () => {
    await fx.close();
    await shortFx.close();
    await reviews.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const curl = (args: string[], gateway = fx, ca = caFile) =>
    runClient('curl', [
      '-sS',
      '-i',
      '--proxy',
      `http://127.0.0.1:${gateway.ports.httpProxy}`,
      '--cacert',
      ca,
      ...args,
    ]);
  const post = (body: string, extra: string[] = [], gateway = fx, ca = caFile) =>
    curl(
      [
        '-X',
        'POST',
        '-H',
        'Content-Type: application/json',
        '-H',
        'Authorization: Bearer not-for-reviewers',
        '--data-binary',
        body,
        ...extra,
        `https://${api}${REVIEWS_PATH}?draft=1`,
      ],
      gateway,
      ca,
    );
  /** The last response in curl -i output (after the proxy's CONNECT answer). */
  const lastResponse = (stdout: string) => stdout.slice(stdout.lastIndexOf('HTTP/1.1 '));
  const jsonOf = (stdout: string) => {
    const response = lastResponse(stdout);
    return JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as ReviewBody;
  };
  const reachedUpstream = (body: string) =>
    upstream.requests.filter((request) => request.url.startsWith(REVIEWS_PATH) && request.body === body)
      .length;
  const eventsFor = (review: string, code: string) =>
    reviewEvents.filter(
      (event) =>
        (event['metadata'] as { event_code: string; correlation_uid?: string }).event_code === code &&
        (event['metadata'] as { correlation_uid?: string }).correlation_uid === review,
    );

  it('answers a pending 403, goes through once after approval, and needs a new review after that', async () => {
    const body = '{"event":"APPROVE","body":"LGTM","token":"ghp_abc123"}';
    const first = await post(body);
    assert.match(lastResponse(first.stdout), /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(first.stdout, /X-Paddock-Error: PDK_EGRESS_REVIEW\r\n/);
    const pending = jsonOf(first.stdout);
    assert.equal(pending.error, 'review_pending');
    assert.match(pending.review, /^rv-[0-9a-f]{16}$/);
    assert.equal(pending.rule, 'writes[0].review');
    assert.equal(
      pending.message,
      `this request awaits human review (paddock review approve ${pending.review}); repeat the identical request after approval`,
    );
    assert.ok(Date.parse(pending.expiresAt!) > Date.now());
    assert.equal(reachedUpstream(body), 0, 'the held write reached the upstream');

    // What reviewers see: method and URL, the body (redacted per logging), the headers without credentials.
    const view = await reviews.queue.show(pending.review);
    assert.equal(view.action, 'http_request');
    assert.equal(view.resource, `POST https://${api}${REVIEWS_PATH}?draft=1`);
    assert.deepEqual(view.ruleIds, ['writes[0].review']);
    const recorded = view.arguments as {
      arguments: { body: string; bodyBytes: number; bodySha256: string };
      context: { headers: Record<string, string> };
    };
    assert.equal(recorded.arguments.body, '{"event":"APPROVE","body":"LGTM","token":"[REDACTED]"}');
    assert.equal(recorded.arguments.bodyBytes, Buffer.byteLength(body));
    assert.match(recorded.arguments.bodySha256, /^sha256:[0-9a-f]{64}$/);
    assert.equal(recorded.context.headers['authorization'], '[REDACTED]');
    assert.equal(recorded.context.headers['content-type'], 'application/json');

    const requested = eventsFor(pending.review, 'http.review_requested');
    assert.equal(requested.length, 1);
    assertValidOcsf(requested[0]);
    assert.equal(requested[0]?.['status_code'], 'review_requested');

    // Asked again before anyone decides: the same pending review.
    const again = jsonOf((await post(body)).stdout);
    assert.equal(again.error, 'review_pending');
    assert.equal(again.review, pending.review);
    assert.equal(eventsFor(pending.review, 'http.review_requested').length, 2);

    await reviews.queue.approve(pending.review, REVIEWER, 'looks right');
    const approved = await post(body);
    assert.match(lastResponse(approved.stdout), /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(reachedUpstream(body), 1);
    const upstreamSaw = upstream.requests.findLast((request) => request.body === body)!;
    assert.equal(upstreamSaw.url, `${REVIEWS_PATH}?draft=1`);
    const allowed = fx.events.filter(
      (event) =>
        event.metadata.event_code === 'http.allowed' && event.metadata.correlation_uid === pending.review,
    );
    assert.equal(allowed.length, 1);
    assertValidOcsf(allowed[0]);
    assert.equal((allowed[0] as unknown as Record<string, unknown>)['status_code'], 'review_approved');

    // The approval was used: the identical request once more is a new review.
    const repeat = jsonOf((await post(body)).stdout);
    assert.equal(repeat.error, 'review_pending');
    assert.notEqual(repeat.review, pending.review);
    assert.equal(reachedUpstream(body), 1);
  });

  it('binds the approval to the exact body: a changed body needs its own review', async () => {
    const original = '{"event":"COMMENT","body":"one"}';
    const changed = '{"event":"APPROVE","body":"one"}';
    const held = jsonOf((await post(original)).stdout);
    await reviews.queue.approve(held.review, REVIEWER, 'a comment is fine');
    const swapped = jsonOf((await post(changed)).stdout);
    assert.equal(swapped.error, 'review_pending');
    assert.notEqual(swapped.review, held.review);
    assert.equal(reachedUpstream(changed), 0, 'a changed body rode on the approval');
    // The approved body still goes through, once, also when sent chunked (the digest is of the body).
    const chunked = await post(original, ['-H', 'Transfer-Encoding: chunked']);
    assert.match(lastResponse(chunked.stdout), /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(reachedUpstream(original), 1);
  });

  it('answers review_denied with the reviewer reason, and keeps it denied', async () => {
    const body = '{"event":"APPROVE","body":"ship it"}';
    const held = jsonOf((await post(body)).stdout);
    await reviews.queue.deny(held.review, REVIEWER, 'not without tests');
    const denied = await post(body);
    assert.match(lastResponse(denied.stdout), /^HTTP\/1\.1 403 Forbidden\r\n/);
    const answer = jsonOf(denied.stdout);
    assert.equal(answer.error, 'review_denied');
    assert.equal(answer.review, held.review);
    assert.match(answer.message, /denied by bob@example\.com: "not without tests"/);
    assert.equal(reachedUpstream(body), 0);
    const deniedEvents = eventsFor(held.review, 'http.denied');
    assert.equal(deniedEvents.length, 1);
    assertValidOcsf(deniedEvents[0]);
    assert.equal(deniedEvents[0]?.['status_code'], 'review_denied');
    assert.equal(jsonOf((await post(body)).stdout).error, 'review_denied');
  });

  it('applies onTimeout deny: an expired review answers review_expired', async () => {
    const body = '{"event":"APPROVE","body":"late"}';
    const held = jsonOf((await post(body, [], shortFx, shortCaFile)).stdout);
    assert.equal(held.error, 'review_pending');
    await new Promise((resolve) => setTimeout(resolve, 400));
    const expired = jsonOf((await post(body, [], shortFx, shortCaFile)).stdout);
    assert.equal(expired.error, 'review_expired');
    assert.equal(expired.review, held.review);
    // An approval after the timeout does not revive it.
    await assert.rejects(reviews.queue.approve(held.review, REVIEWER, 'too late'));
    assert.equal(jsonOf((await post(body, [], shortFx, shortCaFile)).stdout).error, 'review_expired');
    assert.equal(reachedUpstream(body), 0);
  });

  it('answers 100 Continue for a client that waits for it before sending the body', async () => {
    const body = '{"event":"COMMENT","body":"expecting"}';
    const started = performance.now();
    const response = await post(body, ['-H', 'Expect: 100-continue', '--expect100-timeout', '10']);
    assert.ok(performance.now() - started < 5000, 'curl waited for its expect timeout');
    assert.match(response.stdout, /HTTP\/1\.1 100 Continue/);
    assert.equal(jsonOf(response.stdout).error, 'review_pending');
  });

  it('refuses a body over the review limit with 413 instead of holding part of it', async () => {
    const body = 'x'.repeat(5000);
    const response = await post(body);
    assert.match(lastResponse(response.stdout), /^HTTP\/1\.1 413 Content Too Large\r\n/);
    assert.match(response.stdout, /"reason":"review_body_too_large"/);
    assert.equal(reachedUpstream(body), 0);
  });

  it('keeps the connection for the retry: pending answers are complete responses on keep-alive', async () => {
    const body = '{"a":1}';
    // Plain HTTP through the proxy (absolute-form) takes the same session path as inside TLS.
    const http = await startUpstream();
    const plain = await startGateway({
      services: services(http.port),
      names: { 'api.example.test': ['127.0.0.1'] },
      reviewGate: covers,
      reviewQueue: { gate: reviews.gate, held: base(GATE) },
    });
    try {
      const absolute = `POST http://api.example.test:${http.port}${REVIEWS_PATH} HTTP/1.1\r\nHost: api.example.test:${http.port}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      const raw = await rawExchange(plain.ports.httpProxy, [absolute, absolute], 1500);
      const answers = raw.match(/HTTP\/1\.1 403 Forbidden/g) ?? [];
      assert.equal(answers.length, 2, raw);
      assert.match(raw, /Connection: keep-alive/);
      assert.equal(http.requests.length, 0);
    } finally {
      await plain.close();
      await http.close();
    }
  });
});
