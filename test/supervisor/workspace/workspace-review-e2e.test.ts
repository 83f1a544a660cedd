import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChannelServer, IdentityRegistry } from '../../../src/controlplane/channel/index.ts';
import { openStore, type Store } from '../../../src/controlplane/index.ts';
import { ReviewQueue } from '../../../src/controlplane/reviews/queue.ts';
import { WorkspaceLifecycle } from '../../../src/controlplane/workspaces/index.ts';
import { isPaddockError } from '../../../src/core/errors.ts';
import { LocalProvider } from '../../../src/providers/index.ts';
import { collect } from '../../support/terminal-output.ts';

// End to end, all real: the control plane's lifecycle starts a workspace (example platform,
// coding-agent blueprint) through the local provider; its supervisor dials the channel server,
// which holds review-gated calls in a real ReviewQueue over a real store. In a terminal (a
// login shell in a real Paddock sandbox) the user asks the PDP socket about a GitHub write the
// blueprint gates (`/etc/paddock-try POST https://api.github.com/...`), sees it held, a
// reviewer approves it through the queue, and the same call is allowed once. Needs root.

const CONFIG_DIR = new URL('../../../examples/platform/', import.meta.url).pathname;
const WS = 'ws-review-e2e';
const ADA = 'ada@example.com';
const BOB = { id: 'bob@example.com', groups: ['engineering-leads'] };
const GATED = '/etc/paddock-try POST https://api.github.com/repos/acme/app/pulls';
/** A second workspace, under code-review: its hooks see an MCP write the repository's policy gates. */
const HOOK_WS = 'ws-review-hook';
const APPSEC = { id: 'carol@example.com', groups: ['appsec'] };
/** The Claude Code hook command exactly as the managed settings name it, with a PreToolUse payload. */
const hookCall = (tool: string, input: Record<string, unknown>) =>
  `printf '%s' '${JSON.stringify({
    session_id: 'cc-1',
    transcript_path: '/home/agent/.claude/t.jsonl',
    cwd: '/workspace',
    hook_event_name: 'PreToolUse',
    tool_name: tool,
    tool_input: input,
    tool_use_id: 'tu-1',
    permission_mode: 'default',
  })}' | /usr/bin/env -i /etc/paddock-hook claude-code --socket /run/paddock/hook.sock`;

describe('workspace end to end: a review-gated call waits for approval in the control plane', () => {
  let dataDir: string;
  let store: Store;
  let channel: ChannelServer;
  let provider: LocalProvider;
  let queue: ReviewQueue;
  let lifecycle: WorkspaceLifecycle;
  const queueEvents: Record<string, unknown>[] = [];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'paddock-ws-review-'));
    store = await openStore({ url: `sqlite:${join(dataDir, 'controlplane.db')}` });
    await store.createUser({ id: ADA, displayName: 'Ada' });
    queue = new ReviewQueue({ store, audit: async (event) => queueEvents.push(event) });
    const identities = new IdentityRegistry({ file: join(dataDir, 'identities.json') });
    channel = await ChannelServer.start({
      registry: identities,
      listen: { path: join(dataDir, 'channel.sock') },
      reviews: queue,
    });
    provider = new LocalProvider({ dataDir, audit: async () => {} });
    lifecycle = new WorkspaceLifecycle({
      store,
      channel,
      identities,
      providers: new Map([['local', provider]]),
      configDir: CONFIG_DIR,
      blueprintFor: (workspace) => (workspace.id === HOOK_WS ? 'code-review' : 'coding-agent'),
      audit: async () => {},
    });
    await lifecycle.create(ADA, { id: WS, owner: ADA, profile: 'standard-local' });
    await lifecycle.start(ADA, WS);
    await channel.waitForConnection(WS, 30_000);
  });
  after(async () => {
    await provider.close();
    await channel.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A terminal of `workspaceId` and a way to run one command in it and read what it printed. */
  async function shell(workspaceId: string) {
    const terminal = await channel
      .target(workspaceId)
      .open({ cols: 400, rows: 24, mode: 'shell', userId: ADA, attachId: `at-${workspaceId}` });
    const output = collect(terminal);
    let runs = 0;
    // Runs a command; returns what it printed, up to a marker the shell prints after it.
    const run = async (command: string) => {
      const n = ++runs;
      const start = output.text.length;
      terminal.write(`${command}; echo "status=$? end-$((${n}*1000))"\n`);
      const [, status] = (await output.until(
        new RegExp(`status=(\\d+) end-${n * 1000}\\r`),
        30_000,
      )) as string[];
      return { text: output.text.slice(start), status: Number(status) };
    };
    const exit = async () => {
      terminal.write('exit\n');
      await output.exit;
    };
    return { run, exit };
  }

  it('held for review, approved by a reviewer, allowed once, then held again', async () => {
    const { run, exit } = await shell(WS);

    // An ungated command is simply allowed (the socket and the script work).
    const plain = await run('/etc/paddock-try git status');
    assert.match(plain.text, /\rallowed\r\n/);
    assert.equal(plain.status, 0);

    const held = await run(GATED);
    const [, reviewId] = held.text.match(/\rheld for review (rv-[0-9a-f]+): waiting\r\n/) ?? [];
    assert.ok(reviewId, held.text);
    assert.equal(held.status, 2);
    const view = await queue.show(reviewId);
    assert.deepEqual(
      [view.status, view.workspaceId, view.requester, view.action],
      ['pending', WS, ADA, 'http_request'],
    );
    assert.match(view.resource, /^POST https:\/\/api\.github\.com(:443)?\/repos\/acme\/app\/pulls$/);

    // Asking again while it waits names the same review.
    assert.match((await run(GATED)).text, new RegExp(`held for review ${reviewId}: waiting`));
    // The requester cannot approve her own call.
    await assert.rejects(
      queue.approve(reviewId, { id: ADA, groups: ['engineering-leads'] }, 'mine'),
      (error: unknown) => isPaddockError(error, 'PDK_REVIEW_SELF_APPROVAL'),
    );
    await queue.approve(reviewId, BOB, 'ship it');

    const allowed = await run(GATED);
    assert.match(allowed.text, /\rallowed\r\n/);
    assert.equal(allowed.status, 0);
    assert.ok((await queue.show(reviewId)).consumedAt, 'the approval is used up');

    // Single use: the identical call is held again, as a new review.
    const again = await run(GATED);
    const [, second] = again.text.match(/\rheld for review (rv-[0-9a-f]+): waiting\r\n/) ?? [];
    assert.ok(second && second !== reviewId, again.text);

    await exit();
  });

  it("the agent's hook holds a gated MCP call in the control plane's queue until a reviewer approves it", async () => {
    await lifecycle.create(ADA, { id: HOOK_WS, owner: ADA, profile: 'standard-local' });
    await lifecycle.start(ADA, HOOK_WS);
    await channel.waitForConnection(HOOK_WS, 30_000);
    const { run, exit } = await shell(HOOK_WS);
    const submit = hookCall('mcp__github__submit_pending_review', {
      owner: 'acme',
      repo: 'app',
      pullNumber: 7,
      event: 'APPROVE',
    });
    const decision = (text: string) => text.match(/"permissionDecision":"(\w+)"/)?.[1];

    const held = await run(submit);
    assert.equal(decision(held.text), 'deny', held.text);
    assert.match(held.text, /this call awaits human review and was not run/);
    const pending = (await queue.list({ status: 'pending' })).filter(
      (review) => review.workspaceId === HOOK_WS,
    );
    assert.equal(pending.length, 1);
    const reviewId = (pending[0] as { id: string }).id;
    const view = await queue.show(reviewId);
    assert.deepEqual(
      [view.workspaceId, view.requester, view.action, view.tool],
      [HOOK_WS, ADA, 'mcp_call', 'github/submit_pending_review'],
    );
    assert.match(view.blueprint, /^code-review@/);
    // coding-agent's reviewers do not review code-review's gate (group:appsec).
    await assert.rejects(queue.approve(reviewId, BOB, 'ok'), (error: unknown) =>
      isPaddockError(error, 'PDK_REVIEW_NOT_REVIEWER'),
    );
    await queue.approve(reviewId, APPSEC, 'reviewed the review');
    assert.equal(decision((await run(submit)).text), 'allow');
    const again = await run(submit);
    assert.equal(decision(again.text), 'deny');
    const next = (await queue.list({ status: 'pending' })).filter((review) => review.workspaceId === HOOK_WS);
    assert.equal(next.length, 1);
    assert.notEqual(next[0]?.id, reviewId, 'the approval was single use: a new review holds the repeat');
    await exit();
  });
});
