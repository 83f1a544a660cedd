import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type StandaloneReviews, startStandaloneReviews } from '../../../src/cli/standalone-reviews.ts';
import type { HeldCall } from '../../../src/policy/index.ts';
import { type Harness, loginToken, startHarness } from '../../controlplane/http/harness.ts';
import { heldCall } from '../../controlplane/review-queue-fixtures.ts';
import { runCli } from './run-cli.ts';

// `paddock review` against a real control plane (the HTTP test harness: the example platform,
// its embedded IdP, a real store and review queue), with real sign-in tokens: alice (the
// requester), bob (group:appsec, a reviewer), carol (neither). Which queue the command talks to
// (--socket, --server, PADDOCK_SERVER/PADDOCK_TOKEN, a saved session, else the local sockets) is
// checked against a real standalone review socket too.

const ALICE = 'alice@example.com';

describe('paddock review against the control plane', () => {
  let dir: string;
  let h: Harness;
  let local: StandaloneReviews;
  let socket: string;
  const tokens: Record<string, string> = {};
  let calls = 0;

  /** A call alice's agent holds in the control plane's queue; resolves to its review id. */
  async function hold(): Promise<string> {
    const answer = await h.server.reviews.request(
      heldCall({
        requester: { id: ALICE },
        workspaceId: 'ws-alice',
        sessionId: `agent-${++calls}`,
        arguments: { call: calls },
        decisionEvent: undefined,
        gate: { reviewers: ['group:appsec'], minApprovals: 1, timeout: '4h', onTimeout: 'deny' },
      }),
    );
    return answer.reviewId;
  }

  /** The CLI as `who`, the token in PADDOCK_TOKEN and the server in PADDOCK_SERVER. */
  const asUser = (who: string, ...args: string[]) =>
    runCli(['review', ...args], dir, {
      PADDOCK_SERVER: h.origin,
      PADDOCK_TOKEN: tokens[who] as string,
      XDG_CONFIG_HOME: join(dir, 'empty-config'),
      PADDOCK_REVIEW_DIR: join(dir, 'no-runs'),
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pdk-review-cp-'));
    h = await startHarness({ storeUrl: `sqlite:${join(dir, 'store.db')}`, sweepIntervalMs: 60_000 });
    await h.store.createUser({ id: ALICE, displayName: 'Alice Engineer' });
    await h.store.createWorkspace({
      id: 'ws-alice',
      owner: ALICE,
      profile: 'standard-local',
      provider: 'local',
      state: 'created',
    });
    for (const who of ['alice', 'bob', 'carol'])
      tokens[who] = await loginToken(h.origin, `${who}@example.com`);
    socket = join(dir, 'run', 'review.sock');
    local = await startStandaloneReviews({
      requester: { id: 'ada' },
      socketPath: socket,
      audit: async () => {},
      groupsOf: async () => [],
    });
  });
  after(async () => {
    await local?.close();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists and shows with the same text and --json shape as the socket mode', async () => {
    const id = await hold();
    const list = await asUser('bob', 'list', '--status', 'pending');
    assert.equal(list.code, 0, list.stderr);
    const [header, row] = list.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^ID +STATUS +EXPIRES +REQUESTER +APPROVALS +ACTION$/);
    assert.match(
      row ?? '',
      new RegExp(`^${id} +pending +\\S+Z +alice@example\\.com +0/1 +mcp_call github/create_pending_review$`),
    );
    const json = JSON.parse((await asUser('bob', 'list', '--json')).stdout) as Record<string, unknown>[];
    assert.ok(Array.isArray(json));
    const mine = json.find((view) => view['id'] === id);
    assert.ok(mine, 'the held call is listed');

    // The socket mode's output for a request held in a local run: the same fields.
    const call: HeldCall = heldCall({
      requester: { id: 'ada' },
      workspaceId: local.workspaceId,
      decisionEvent: undefined,
    });
    await local.gate.request(call);
    const socketList = await runCli(['review', 'list', '--json', '--socket', socket], dir);
    assert.equal(socketList.code, 0, socketList.stderr);
    const [socketView] = JSON.parse(socketList.stdout) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(mine).sort(), Object.keys(socketView ?? {}).sort());

    const show = await asUser('bob', 'show', id);
    assert.equal(show.code, 0, show.stderr);
    for (const line of [`review ${id}`, '  status     pending', `  requester  ${ALICE}`, '  approvals  0/1'])
      assert.ok(show.stdout.includes(`${line}\n`), `missing ${JSON.stringify(line)} in\n${show.stdout}`);
    assert.match(show.stdout, /"call": \d+/, 'the recorded arguments');
    const shown = JSON.parse((await asUser('bob', 'show', id, '--json')).stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(shown).sort(), Object.keys(socketView ?? {}).sort());
    assert.equal(shown['id'], id);
  });

  it("refuses the requester's self-approval with the server's coded error; a reviewer approves", async () => {
    const id = await hold();
    const self = await asUser('alice', 'approve', id, '--reason', 'mine');
    assert.equal(self.code, 1);
    assert.match(self.stderr, new RegExp(`^error PDK_REVIEW_SELF_APPROVAL: .*${id}`));
    assert.ok(
      h.codes().some((code) => code.startsWith('finding.created')),
      'the attempt is audited',
    );

    const approved = await asUser('bob', 'approve', id, '--reason', 'release branch');
    assert.deepEqual(approved, {
      code: 0,
      stdout: `approved ${id} (1/1 approvals): the agent may retry the identical call once\n`,
      stderr: '',
    });
    const stored = JSON.parse((await asUser('bob', 'show', id, '--json')).stdout) as {
      status: string;
      approvals: { reviewer: string }[];
    };
    assert.equal(stored.status, 'approved');
    assert.deepEqual(
      stored.approvals.map((a) => a.reviewer),
      ['bob@example.com'],
    );
  });

  it('denies with --json; someone the request is hidden from is told it does not exist', async () => {
    const id = await hold();
    const hidden = await asUser('carol', 'show', id);
    assert.equal(hidden.code, 1);
    assert.match(hidden.stderr, /^error PDK_REVIEW_NOT_FOUND: /);
    const denied = await asUser('bob', 'deny', id, '--reason', 'not now', '--json');
    assert.equal(denied.code, 0, denied.stderr);
    const view = JSON.parse(denied.stdout) as { id: string; status: string };
    assert.deepEqual([view.id, view.status], [id, 'denied']);
    const late = await asUser('bob', 'approve', id, '--reason', 'changed my mind');
    assert.equal(late.code, 1);
    assert.match(late.stderr, /^error PDK_REVIEW_CLOSED: /);
  });

  it('--as is refused in control-plane mode: the token says who answers', async () => {
    const id = await hold();
    const result = await asUser('carol', 'approve', id, '--reason', 'ok', '--as', 'bob@example.com');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error PDK_CLI_USAGE: --as is for local review sockets/);
  });

  it('uses the session `paddock login` saved, or --server; --socket forces the local socket', async () => {
    const id = await hold();
    const config = join(dir, 'config');
    mkdirSync(join(config, 'paddock'), { recursive: true });
    writeFileSync(
      join(config, 'paddock', 'session.json'),
      JSON.stringify({ server: h.origin, token: tokens['bob'], expiresAt: Date.now() + 3_600_000 }),
      { mode: 0o600 },
    );
    const saved = { XDG_CONFIG_HOME: config, PADDOCK_REVIEW_DIR: join(dir, 'no-runs') };
    const viaSaved = await runCli(['review', 'show', id, '--json'], dir, saved);
    assert.equal(viaSaved.code, 0, viaSaved.stderr);
    assert.equal(JSON.parse(viaSaved.stdout).id, id);

    const viaOption = await runCli(['review', 'show', id, '--json', '--server', h.origin], dir, {
      XDG_CONFIG_HOME: join(dir, 'empty-config'),
      PADDOCK_TOKEN: tokens['carol'],
    });
    assert.equal(viaOption.code, 1, 'carol, by PADDOCK_TOKEN, cannot see it');
    assert.match(viaOption.stderr, /^error PDK_REVIEW_NOT_FOUND: /);

    // Signed in, but --socket: the local run's queue, which does not hold the control plane's id.
    const forced = await runCli(['review', 'show', id, '--socket', socket], dir, saved);
    assert.equal(forced.code, 1);
    assert.match(forced.stderr, new RegExp(`^error PDK_REVIEW_NOT_FOUND: review request ${id} not found`));
    const localList = await runCli(['review', 'list', '--json', '--socket', socket], dir, saved);
    assert.equal(JSON.parse(localList.stdout)[0].requester, 'ada');

    // Not signed in at all: every local run's socket (none here, which is what the error says).
    const none = await runCli(['review', 'list'], dir, {
      XDG_CONFIG_HOME: join(dir, 'empty-config'),
      PADDOCK_REVIEW_DIR: join(dir, 'no-runs'),
    });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^error PDK_REVIEW_UNAVAILABLE: no review socket under .*no-runs/);
  });

  it("refuses --socket with --server, and --server without a token; a bad token is the server's 401", async () => {
    const both = await runCli(['review', 'list', '--socket', socket, '--server', h.origin], dir, {});
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^error PDK_CLI_USAGE: --socket .* exclude each other/);
    const noToken = await runCli(['review', 'list', '--server', h.origin], dir, {
      XDG_CONFIG_HOME: join(dir, 'empty-config'),
    });
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /^error PDK_AUTH_NOT_SIGNED_IN: /);
    const forged = await runCli(['review', 'list'], dir, {
      PADDOCK_SERVER: h.origin,
      PADDOCK_TOKEN: 'not-a-session',
      XDG_CONFIG_HOME: join(dir, 'empty-config'),
    });
    assert.equal(forged.code, 1);
    assert.match(forged.stderr, /^error PDK_AUTH_REQUIRED: /);
  });
});
