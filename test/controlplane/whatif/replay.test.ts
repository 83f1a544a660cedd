import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { requireValidRepository, resolveBlueprint } from '../../../src/config/index.ts';
import { openStore } from '../../../src/controlplane/index.ts';
import { recoverDecision, splitCommandLine } from '../../../src/controlplane/whatif/index.ts';
import { compilePolicyBundle, createDecisionPoint, type DecisionRequest } from '../../../src/policy/index.ts';
import { pdpDecisionEvent, policyInputFromBlueprint } from '../../../src/supervisor/index.ts';
import { writeDesiredState } from '../reconciler/fixtures.ts';

// What-if against a real audit log: real decisions of the PDP compiled from the current
// desired state, recorded as the supervisor records them (pdpDecisionEvent) in the control
// plane's store; then a commit that adds a Cedar policy and changes a blueprint, and
// `paddock plan --replay` must list exactly the decisions whose answer changes.

const PADDOCK = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'paddock-whatif-'));
after(() => rmSync(root, { recursive: true, force: true }));
const current = join(root, 'current');
const candidate = join(root, 'candidate');
const dataDir = join(root, 'data');
const DAY = 86_400_000;

const principal = { session: 'sess-1', user: 'ada@example.com', groups: ['engineering'] };
const REQUESTS: Record<string, DecisionRequest> = {
  make: { action: 'exec', argv: ['make', 'build'] },
  terraform: { action: 'exec', argv: ['terraform', 'plan'] },
  createPr: { action: 'mcp_call', server: 'github', tool: 'create_pull_request', arguments: { title: 'x' } },
  gitStatus: { action: 'exec', argv: ['git', 'status'] },
  forcePush: { action: 'exec', argv: ['git', 'push', '--force', 'origin', 'x'] },
  quoted: { action: 'exec', argv: ['node', '-e', "console.log('a b')"] },
  ciEdit: { action: 'write_file', path: '/workspace/.github/workflows/ci.yml' },
  read: { action: 'read_file', path: '/workspace/src/a.ts' },
  prPost: { action: 'http_request', method: 'POST', url: 'https://api.github.com/repos/a/b/pulls' },
  connect: { action: 'connect', host: 'api.github.com', port: 443 },
  getPr: { action: 'mcp_call', server: 'github', tool: 'get_pull_request' },
};
/** uid of each request's event, and the decision recorded. */
const recorded = new Map<string, { uid: string; decision: string }>();
let oldUid = '';

before(async () => {
  writeDesiredState(current, [
    { groups: ['engineering'], profile: 'standard-local', blueprints: ['coding-agent'] },
  ]);
  writeDesiredState(candidate, [
    { groups: ['engineering'], profile: 'standard-local', blueprints: ['coding-agent'] },
  ]);
  // The candidate commit: a new Cedar policy, and coding-agent allows a command and an MCP tool more.
  writeFileSync(
    join(candidate, 'policies', 'no-make.cedar'),
    '@id("no-make")\n@reason("make_forbidden")\nforbid (principal, action == Action::"exec", resource)\nwhen { context.program == "make" };\n',
  );
  // The parent too: a child blueprint may only narrow it.
  for (const name of ['coding-agent', 'coding-base']) {
    const blueprint = join(candidate, 'blueprints', `${name}.yaml`);
    const text = readFileSync(blueprint, 'utf8');
    const edited = text
      .replace('"diff *"]', '"diff *", "terraform plan"]')
      .replace(/(search_code|submit_pending_review)\]/, '$1, create_pull_request]');
    assert.notEqual(edited, text);
    writeFileSync(blueprint, edited);
  }
  await requireValidRepository(candidate);

  const { state } = await requireValidRepository(current);
  const pdp = createDecisionPoint(
    compilePolicyBundle(policyInputFromBlueprint(resolveBlueprint(state, 'coding-agent'), state.policies)),
    { principal },
  );
  let now = Date.now() - 9 * DAY;
  const store = await openStore({
    url: `sqlite:${join(dataDir, 'controlplane.db')}`,
    clock: { now: () => now },
  });
  const context = {
    workspaceId: 'ws-ada',
    sessionId: principal.session,
    user: { uid: principal.user, email: principal.user, groups: principal.groups },
    blueprint: { name: 'coding-agent', version: '1.2.0' },
  };
  try {
    // Outside a 7-day window: would change (make), must not be listed.
    const old = pdpDecisionEvent(REQUESTS.make, pdp.decide(REQUESTS.make!), context);
    oldUid = old.metadata.uid;
    await store.appendChainedAuditEvents('ws-ada', [old]);
    now = Date.now() - DAY;
    for (const [name, request] of Object.entries(REQUESTS)) {
      const decision = pdp.decide(request);
      const event = pdpDecisionEvent(request, decision, {
        ...context,
        // MCP arguments recorded in full for the create_pull_request call.
      });
      const withArgs =
        request.action === 'mcp_call' && request.arguments
          ? {
              ...event,
              api: { ...(event['api'] as object), request: { uid: 'r1', data: request.arguments } },
            }
          : event;
      recorded.set(name, { uid: event.metadata.uid, decision: decision.decision });
      await store.appendChainedAuditEvents('ws-ada', [withArgs]);
    }
    // A non-decision event is not replayed.
    await store.appendChainedAuditEvents('controlplane', [
      {
        ...(await import('../../../src/audit/index.ts')).componentEvent({
          event: 'workspace.created',
          componentId: 'ws-ada',
          workspaceId: 'ws-ada',
        }),
      },
    ]);
  } finally {
    await store.close();
  }
});

function plan(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [PADDOCK, 'plan', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('what-if replay', () => {
  it('recorded the decisions the test expects to change, as the current bundle made them', () => {
    assert.deepEqual(Object.fromEntries([...recorded].map(([name, { decision }]) => [name, decision])), {
      make: 'allow',
      terraform: 'deny',
      createPr: 'deny',
      gitStatus: 'allow',
      forcePush: 'deny',
      quoted: 'allow',
      ciEdit: 'deny',
      read: 'allow',
      prPost: 'review',
      connect: 'allow',
      getPr: 'allow',
    });
  });

  it('against the current commit, nothing changes', async () => {
    const result = await plan(['--config', current, '--data-dir', dataDir, '--replay', '7', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const { replay } = JSON.parse(result.stdout);
    assert.equal(replay.decisions, Object.keys(REQUESTS).length);
    assert.equal(replay.replayed, Object.keys(REQUESTS).length);
    assert.deepEqual(replay.changed, []);
  });

  it('against the candidate, lists exactly the changed decisions: allow→deny, deny→allow, newly review-gated', async () => {
    const result = await plan(['--config', candidate, '--data-dir', dataDir, '--replay', '7', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const { replay } = JSON.parse(result.stdout);
    assert.deepEqual(
      replay.changed.map((change: Record<string, unknown>) => [
        change.uid,
        change.change,
        change.action,
        change.resource,
      ]),
      [
        [recorded.get('make')!.uid, 'allow→deny', 'exec', 'make build'],
        [recorded.get('terraform')!.uid, 'deny→allow', 'exec', 'terraform plan'],
        [recorded.get('createPr')!.uid, 'newly review-gated', 'mcp_call', 'github/create_pull_request'],
      ],
    );
    assert.equal(replay.changed[0].reason, 'make_forbidden');
    assert.deepEqual(replay.changed[0].policyIds, ['extra:policies/no-make.cedar#no-make']);
    assert.ok(!JSON.stringify(replay).includes(oldUid), 'an event outside the window is not replayed');
    assert.equal(replay.unchanged, Object.keys(REQUESTS).length - 3);
    assert.equal(replay.inexact, 1, 'get_pull_request was recorded without arguments');

    const text = await plan(['--config', candidate, '--data-dir', dataDir, '--replay', '7']);
    assert.match(text.stdout, /3 would change/);
    assert.match(text.stdout, /allow→deny\s+exec make build/);
    // A 10-day window reaches the old event too.
    const wide = JSON.parse(
      (await plan(['--config', candidate, '--data-dir', dataDir, '--replay', '10', '--json'])).stdout,
    );
    assert.ok(wide.replay.changed.some((change: { uid: string }) => change.uid === oldUid));
  });

  it('replays a hash-chained audit file too (--audit)', async () => {
    const file = join(root, 'spool.jsonl');
    const event = pdpDecisionEvent(
      REQUESTS.make!,
      {
        decision: 'allow',
        reason: 'command_allowed',
        policyIds: [],
        bundle: { id: 'coding-agent:x', version: '1.2.0' },
      },
      { workspaceId: 'ws-x', sessionId: 's', user: { uid: 'bob@example.com' } },
    );
    appendFileSync(
      file,
      `${JSON.stringify({ seq: 1, time: Date.now(), prev: '0'.repeat(64), hash: 'h', event })}\n`,
    );
    const result = await plan([
      '--config',
      candidate,
      '--data-dir',
      join(root, 'empty-data'),
      '--replay',
      '1',
      '--audit',
      file,
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const { replay } = JSON.parse(result.stdout);
    // The blueprint comes from the bundle id when the event names none.
    assert.deepEqual(
      replay.changed.map((change: { user: string; blueprint: string }) => [change.user, change.blueprint]),
      [['bob@example.com', 'coding-agent']],
    );
  });

  it('recovers quoted command lines word for word', () => {
    for (const argv of [
      ['node', '-e', "console.log('a b')"],
      ['echo', ''],
      ['a', "it's", 'x\ty'],
    ]) {
      const event = pdpDecisionEvent(
        { action: 'exec', argv },
        { decision: 'deny', reason: 'r', policyIds: [], bundle: { id: 'b:1', version: '1' } },
        { workspaceId: 'w', sessionId: 's', user: { uid: 'u' } },
      );
      const recovered = recoverDecision(event as unknown as Record<string, unknown>);
      assert.ok('decision' in recovered);
      assert.deepEqual(recovered.decision.request, {
        action: 'exec',
        argv,
        principal: { user: 'u', session: 's', groups: [] },
      });
    }
    assert.equal(splitCommandLine("unterminated 'quote"), undefined);
    // A gateway event without a user is replayed as "unknown" and flagged.
    const anonymous = pdpDecisionEvent(
      { action: 'connect', host: 'example.com', port: 443 },
      {
        decision: 'deny',
        reason: 'host_not_allowed',
        policyIds: [],
        bundle: { id: 'coding-agent:1', version: '1' },
      },
      { workspaceId: 'w', sessionId: 's' },
    );
    const recovered = recoverDecision(anonymous as unknown as Record<string, unknown>);
    assert.ok('decision' in recovered);
    assert.equal(recovered.decision.request.principal?.user, 'unknown');
    assert.equal(recovered.decision.inexact, 'the event names no user');
    assert.equal(recovered.decision.blueprint, 'coding-agent');
  });
});
