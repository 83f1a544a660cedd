import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditChainWriter, execDecisionEvent, verifyChain } from '../../../src/audit/index.ts';
import { type StandaloneReviews, startStandaloneReviews } from '../../../src/cli/standalone-reviews.ts';
import type { HeldCall } from '../../../src/policy/index.ts';
import { runCli } from './run-cli.ts';

// `paddock review list|show|approve|deny` through main(), against the real review socket of a
// standalone run (startStandaloneReviews: the queue over a SQLite file, served on the socket),
// with the agent's side driven through the same run's gate and everything audited to a chain.

const BUNDLE = { id: 'standalone', version: '1' };

describe('paddock review', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-review-cli-'));
  const socket = join(dir, 'reviews', 'review.sock');
  const auditLog = join(dir, 'audit.jsonl');
  let reviews: StandaloneReviews;
  let writer: AuditChainWriter;
  const review = (...args: string[]) => runCli(['review', ...args, '--socket', socket], dir);

  function call(argv: string[]): HeldCall {
    return {
      requester: reviews.requester,
      workspaceId: reviews.workspaceId,
      sessionId: 'sess-1',
      harness: 'claude-code',
      blueprint: { name: 'coding', version: '2.0.0' },
      bundle: BUNDLE,
      action: 'exec',
      resource: argv.join(' '),
      tool: 'Bash',
      arguments: { command: argv.join(' '), env: { GITHUB_TOKEN: 'ghp_x' } },
      ruleIds: ['review-push'],
      gate: { reviewers: ['group:appsec'], minApprovals: 1, timeout: '4h', onTimeout: 'deny' },
      logging: { toolArguments: 'redacted', redact: ['(?i)token'] },
      decisionEvent: (decision) =>
        execDecisionEvent({
          workspaceId: reviews.workspaceId,
          sessionId: 'sess-1',
          harness: 'claude-code',
          argv,
          bundle: BUNDLE,
          ruleId: 'review-push',
          ...decision,
        }),
    };
  }

  before(async () => {
    writer = await AuditChainWriter.open(auditLog);
    reviews = await startStandaloneReviews({
      requester: { id: 'ada' },
      socketPath: socket,
      audit: (event) => writer.append(event),
      groupsOf: async (account) => (account === 'bob' || account === 'carol' ? ['appsec'] : []),
    });
  });
  after(async () => {
    await reviews.close();
    await writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists nothing before anything is held', async () => {
    assert.deepEqual(await review('list'), { code: 0, stdout: 'no review requests\n', stderr: '' });
  });

  it('lists, shows and approves a held call, which then goes through once', async () => {
    const push = call(['git', 'push', 'origin', 'main']);
    const held = await reviews.gate.request(push);
    assert.equal(held.status, 'pending');
    const id = held.reviewId;

    const list = await review('list', '--status', 'pending');
    assert.equal(list.code, 0, list.stderr);
    const [header, row] = list.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^ID +STATUS +EXPIRES +REQUESTER +APPROVALS +ACTION$/);
    assert.match(row ?? '', new RegExp(`^${id} +pending +\\S+Z +ada +0/1 +exec git push origin main$`));
    const json = JSON.parse((await review('list', '--json')).stdout);
    assert.deepEqual(
      json.map((v: { id: string; status: string }) => [v.id, v.status]),
      [[id, 'pending']],
    );
    assert.equal((await review('list', '--status', 'denied')).stdout, 'no denied review requests\n');

    const show = await review('show', id);
    assert.equal(show.code, 0, show.stderr);
    for (const line of [
      `review ${id}`,
      '  status     pending',
      '  requester  ada',
      '  session    sess-1 (claude-code)',
      '  blueprint  coding@2.0.0',
      '  action     exec git push origin main',
      '  rules      review-push',
      '  reviewers  group:appsec (1 distinct approval; onTimeout deny)',
      '  approvals  0/1',
      '      "GITHUB_TOKEN": "[REDACTED]"',
    ]) {
      assert.ok(show.stdout.includes(`${line}\n`), `missing ${JSON.stringify(line)} in\n${show.stdout}`);
    }
    assert.match(show.stdout, /\n {2}digest {5}sha256:[0-9a-f]{64}\n/);
    assert.equal(JSON.parse((await review('show', id, '--json')).stdout).id, id);

    assert.deepEqual(await review('approve', id, '--reason', 'release branch', '--as', 'bob'), {
      code: 0,
      stdout: `approved ${id} (1/1 approvals): the agent may retry the identical call once\n`,
      stderr: '',
    });
    assert.equal((await reviews.gate.request(push)).status, 'approved');
    assert.equal((await reviews.gate.request(push)).status, 'pending');
  });

  it('refuses a self-approval, a non-reviewer and a missing reason, and denies', async () => {
    const held = await reviews.gate.request(call(['rm', '-rf', 'build']));
    const id = held.reviewId;
    const self = await review('approve', id, '--reason', 'mine', '--as', 'ada');
    assert.equal(self.code, 1);
    assert.match(
      self.stderr,
      new RegExp(`^error PDK_REVIEW_SELF_APPROVAL: ada requested review ${id} and cannot answer it`),
    );
    const eve = await review('approve', id, '--reason', 'ok', '--as', 'eve');
    assert.equal(eve.code, 1);
    assert.match(
      eve.stderr,
      /^error PDK_REVIEW_NOT_REVIEWER: eve is not a reviewer of review rv-[0-9a-f]{16}: it may be answered by group:appsec\n/,
    );
    const usage = await review('approve', id);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^error PDK_CLI_USAGE: paddock review approve needs --reason TEXT/);
    const empty = await review('deny', id, '--reason', ' ', '--as', 'carol');
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^error PDK_REVIEW_INVALID: a review answer needs a reason/);

    assert.deepEqual(await review('deny', id, '--reason', 'not now', '--as', 'carol'), {
      code: 0,
      stdout: `denied ${id}: the agent's call is refused\n`,
      stderr: '',
    });
    const late = await review('approve', id, '--reason', 'ok', '--as', 'bob');
    assert.equal(late.code, 1);
    assert.match(
      late.stderr,
      new RegExp(`^error PDK_REVIEW_CLOSED: review request ${id} was already denied by carol\n`),
    );
    assert.equal((await reviews.gate.request(call(['rm', '-rf', 'build']))).status, 'denied');
    const missing = await review('show', 'rv-0000000000000000');
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^error PDK_REVIEW_NOT_FOUND: review request rv-0000000000000000 not found\n/,
    );
  });

  it('shows what an agent chose with control and bidi characters escaped', async () => {
    const held = await reviews.gate.request(call(['echo', '\u001b[2J\u202eevil']));
    const show = await review('show', held.reviewId);
    assert.equal(show.code, 0, show.stderr);
    assert.ok(!/[\u001b\u202e]/.test(show.stdout));
    assert.ok(show.stdout.includes('exec echo \\u{1b}[2J\\u{202e}evil\n'));
  });

  it('rejects a bad --status and reports a socket nobody serves', async () => {
    const bad = await review('list', '--status', 'open');
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^error PDK_CLI_USAGE: --status must be one of pending, approved, denied, expired, cancelled, got "open"/,
    );
    const gone = await runCli(['review', 'list', '--socket', join(dir, 'none.sock')], dir);
    assert.equal(gone.code, 1);
    assert.match(
      gone.stderr,
      /^error PDK_REVIEW_UNAVAILABLE: no review socket answers at .*none\.sock \(ENOENT\)/,
    );
  });

  it('audits every step to the run chain, correlated by review id', async () => {
    await writer.close();
    const verification = await verifyChain(auditLog);
    assert.equal(verification.ok, true);
    writer = await AuditChainWriter.open(auditLog);
    const events = readFileSync(auditLog, 'utf8')
      .trim()
      .split('\n')
      .map(
        (line) => JSON.parse(line).event as { metadata: { event_code: string; correlation_uid?: string } },
      );
    const codes = events.map((e) => e.metadata.event_code);
    for (const code of [
      'exec.review_requested',
      'review.approved',
      'exec.allowed',
      'finding.created',
      'review.rejected',
      'exec.denied',
    ]) {
      assert.ok(codes.includes(code), `no ${code} in ${codes.join(', ')}`);
    }
    assert.ok(events.every((e) => /^rv-[0-9a-f]{16}$/.test(e.metadata.correlation_uid ?? '')));
  });
});
