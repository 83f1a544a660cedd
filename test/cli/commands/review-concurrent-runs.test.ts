// Two `paddock run`s with review gates at the same time each serve their own review socket
// (startStandaloneReviews' default: a directory of the run's own), and `paddock review` without
// --socket finds both: list gathers every run's requests, approve and deny reach the run that
// holds the review, and a run that ends takes its socket and store with it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type StandaloneReviews, startStandaloneReviews } from '../../../src/cli/standalone-reviews.ts';
import type { HeldCall } from '../../../src/policy/index.ts';
import { runCli } from './run-cli.ts';

const GATE = { reviewers: ['group:appsec'], minApprovals: 1, timeout: '1h', onTimeout: 'deny' as const };

function held(reviews: StandaloneReviews, session: string, argv: string[]): HeldCall {
  return {
    requester: reviews.requester,
    workspaceId: reviews.workspaceId,
    sessionId: session,
    harness: 'claude-code',
    blueprint: { name: 'coding-agent', version: '1.0.0' },
    bundle: { id: 'standalone', version: '1' },
    action: 'exec',
    resource: argv.join(' '),
    tool: argv[0] ?? 'exec',
    arguments: { argv },
    ruleIds: ['exec.review'],
    gate: GATE,
  };
}

describe('paddock review: concurrent runs each have their own review socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pdk-review-runs-'));
  const socketsDir = join(dir, 'reviews');
  const env = { PADDOCK_REVIEW_DIR: socketsDir, SUDO_USER: 'bob' };
  const groupsOf = async (account: string) => (account === 'bob' ? ['appsec'] : []);
  let first: StandaloneReviews;
  let second: StandaloneReviews;
  const ids: string[] = [];

  before(async () => {
    [first, second] = await Promise.all([
      startStandaloneReviews({ requester: { id: 'ada' }, audit: async () => {}, socketsDir, groupsOf }),
      startStandaloneReviews({ requester: { id: 'cy' }, audit: async () => {}, socketsDir, groupsOf }),
    ]);
    for (const [reviews, session, argv] of [
      [first, 'run-1-session', ['git', 'push', 'origin', 'feature']],
      [second, 'run-2-session', ['npm', 'publish']],
    ] as const) {
      const answer = await reviews.gate.request(held(reviews, session, [...argv]));
      assert.equal(answer.status, 'pending');
      ids.push(answer.reviewId);
    }
  });

  after(async () => {
    // The last test closes both; here only in case it did not get that far.
    await first.close().catch(() => {});
    await second.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves each run on a socket of its own, in a root-only directory', () => {
    assert.notEqual(first.socketPath, second.socketPath);
    assert.notEqual(dirname(first.socketPath), dirname(second.socketPath));
    for (const reviews of [first, second]) {
      assert.equal(dirname(dirname(reviews.socketPath)), socketsDir);
      assert.equal(statSync(dirname(reviews.socketPath)).mode & 0o777, 0o700);
      assert.ok(statSync(reviews.socketPath).isSocket());
    }
  });

  it('lists the pending requests of both runs without --socket', async () => {
    const listed = await runCli(['review', 'list', '--json'], dir, env);
    assert.equal(listed.code, 0, listed.stderr);
    const views = JSON.parse(listed.stdout) as { id: string; requester: string }[];
    assert.deepEqual(views.map((view) => view.id).sort(), [...ids].sort());
    assert.deepEqual(views.map((view) => view.requester).sort(), ['ada', 'cy']);
  });

  it('approves in the run that holds the review, and only there', async () => {
    const approved = await runCli(
      ['review', 'approve', ids[1]!, '--reason', 'publish ok', '--json'],
      dir,
      env,
    );
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal((await second.queue.show(ids[1]!)).status, 'approved');
    assert.equal((await first.queue.show(ids[0]!)).status, 'pending');
    // The second run's agent now gets its call through once; the first run's stays held.
    const retried = await second.gate.request(held(second, 'run-2-session', ['npm', 'publish']));
    assert.equal(retried.status, 'approved');
    const other = await first.gate.request(
      held(first, 'run-1-session', ['git', 'push', 'origin', 'feature']),
    );
    assert.equal(other.status, 'pending');
  });

  it('answers not found for an id no running run holds', async () => {
    const missing = await runCli(['review', 'deny', 'rv-0000000000000000', '--reason', 'no'], dir, env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /PDK_REVIEW_NOT_FOUND/);
  });

  it('removes a run socket and store when the run ends; the other run keeps serving', async () => {
    const gone = dirname(first.socketPath);
    await first.close();
    assert.equal(existsSync(gone), false);
    const listed = await runCli(['review', 'list', '--json'], dir, env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { id: string }[]).map((view) => view.id),
      [ids[1]],
    );
    await second.close();
    const none = await runCli(['review', 'list'], dir, env);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /PDK_REVIEW_UNAVAILABLE: no review socket under/);
  });
});
