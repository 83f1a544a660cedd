import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { runHookClient } from '../../src/supervisor/hooks/client.js';
import { type DecideFn, type LocalDecision, startHookServer } from '../../src/supervisor/hooks/index.ts';
import { runHook, socketPath, standInHookServer, toolEvent } from './hooks-support.ts';

// Fail closed, through the real `paddock hook` process: a missing socket, a garbage or slow
// answer, malformed stdin, an unsupported event, and a decision point that throws, stalls or
// answers nonsense all end in a block — never in an allow. The decision functions here are
// stand-ins for the PDP (the real one is exercised in hooks-claude-code/codex/gemini tests).

const bash = (command: string) => toolEvent('claude-code', 'PreToolUse', 'Bash', { command });
const allowAll: DecideFn = () => ({ decision: 'allow', policyIds: ['stand-in'], reason: 'command_allowed' });

function assertBlocked(run: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(run.code, 2, `stdout ${run.stdout}`);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, pattern);
}

/** A raw socket server that answers every connection with `reply` (or never, when null). */
async function rawServer(reply: string | null): Promise<string> {
  const path = socketPath();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined);
    socket.resume();
    if (reply !== null) socket.on('end', () => socket.end(reply));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  after(() => {
    server.close();
    server.unref();
  });
  return path;
}

describe('hook client fails closed', () => {
  it('blocks when the hook socket does not exist', async () => {
    assertBlocked(
      await runHook('claude-code', bash('ls'), '/nonexistent/hook.sock'),
      /supervisor is unreachable at \/nonexistent\/hook\.sock \(ENOENT\) \(PDK_HOOK_UNAVAILABLE\)/,
    );
  });

  it('blocks on a garbage answer', async () => {
    assertBlocked(await runHook('codex', bash('ls'), await rawServer('garbage\n')), /answer is malformed/);
    assertBlocked(await runHook('codex', bash('ls'), await rawServer('')), /answer is malformed/);
  });

  it('blocks on a well-framed but wrong answer (exit code 1 would let the call through)', async () => {
    for (const wrong of [
      'PADDOCK-HOOK 1 1 0 1\nx',
      'PADDOCK-HOOK 1 2 0 0\n',
      'PADDOCK-HOOK 1 0 10 0\n{}',
      'PADDOCK-HOOK 1 0 0 0\nextra',
    ]) {
      assertBlocked(await runHook('gemini', bash('ls'), await rawServer(wrong)), /answer is malformed/);
    }
  });

  it('blocks within its 2 s budget when the supervisor never answers', async () => {
    const run = await runHook('claude-code', bash('ls'), await rawServer(null));
    assertBlocked(run, /did not answer within 2000 ms/);
    assert.ok(run.ms < 3000, `${run.ms} ms`);
  });

  it('blocks within its 2 s budget when stdin never ends', async () => {
    const run = await runHook('codex', null, await rawServer(null));
    assertBlocked(run, /the hook input did not end within 2000 ms/);
    assert.ok(run.ms < 3000, `${run.ms} ms`);
  });

  it('blocks an unknown harness or argument', async () => {
    assertBlocked(await runHook('claude-code', bash('ls'), '/x', ['--bogus']), /unknown argument "--bogus"/);
    const client = await runHookClient(['vscode'], {
      stdin: Readable.from([]),
      stdout: new Writable({ write: (_c, _e, done) => done() }),
      stderr: new Writable({ write: (_c, _e, done) => done() }),
    });
    assert.equal(client, 2);
  });

  it('blocks input larger than 16 MiB without sending it', async () => {
    let stderr = '';
    const big = Readable.from(
      (function* () {
        for (let i = 0; i < 17; i += 1) yield Buffer.alloc(1024 * 1024, 0x20);
      })(),
    );
    const code = await runHookClient(['claude-code', '--socket', '/nonexistent.sock'], {
      stdin: big,
      stdout: new Writable({ write: (_c, _e, done) => done() }),
      stderr: new Writable({
        write: (chunk, _e, done) => {
          stderr += chunk;
          done();
        },
      }),
    });
    assert.equal(code, 2);
    assert.match(stderr, /exceeds 16777216 bytes/);
  });
});

describe('hook server fails closed (stand-in decision functions)', () => {
  it('blocks stdin that is not JSON, and unsupported events, with exit code 2', async () => {
    const socket = await standInHookServer(allowAll);
    assertBlocked(
      await runHook('claude-code', '{"tool_name": "Bash",', socket),
      /not valid JSON \(PDK_HOOK_INPUT\)/,
    );
    const stop = { session_id: 's', cwd: '/workspace', hook_event_name: 'Stop', stop_hook_active: false };
    assertBlocked(await runHook('claude-code', stop, socket), /unsupported hook event "Stop"/);
    assertBlocked(
      await runHook('gemini', bash('ls'), socket),
      /unsupported hook event "PreToolUse"; Paddock answers BeforeTool and AfterTool/,
    );
    assertBlocked(await runHook('codex', { ...bash('ls'), cwd: 'relative' }, socket), /no absolute cwd/);
  });

  it('denies when the decision point throws', async () => {
    const socket = await standInHookServer(() => {
      throw new Error('bundle missing');
    });
    const run = await runHook('claude-code', bash('ls'), socket);
    assert.equal(run.json.hookSpecificOutput.permissionDecision, 'deny');
    assert.match(run.json.hookSpecificOutput.permissionDecisionReason, /did not answer \(bundle missing\)/);
  });

  it('denies when the decision point is slower than the decision timeout', async () => {
    const socket = await standInHookServer(() => new Promise(() => undefined), { decisionTimeoutMs: 200 });
    const run = await runHook('codex', toolEvent('codex', 'PreToolUse', 'Bash', { command: 'ls' }), socket);
    assert.equal(run.json.hookSpecificOutput.permissionDecision, 'deny');
    assert.match(run.json.hookSpecificOutput.permissionDecisionReason, /no decision within 200 ms/);
  });

  it('denies a malformed decision', async () => {
    const socket = await standInHookServer(
      () => ({ decision: 'maybe', policyIds: [], reason: 'x' }) as never,
    );
    const run = await runHook(
      'gemini',
      toolEvent('gemini', 'BeforeTool', 'read_file', { file_path: '/workspace/a' }),
      socket,
    );
    assert.deepEqual([run.json.decision, /malformed answer/.test(run.json.reason)], ['deny', true]);
  });

  it('answers review as a deny that carries the review id, the PDP message and how to retry', async () => {
    const socket = await standInHookServer((request) =>
      request.action === 'exec' && request.argv[1] === 'push'
        ? {
            decision: 'review',
            policyIds: ['writes[0]'],
            reason: 'review_required',
            reviewId: 'rv-42',
            message: 'Follow it with `paddock review show rv-42`.',
          }
        : { decision: 'allow', policyIds: ['commands.allow[0]'], reason: 'command_allowed' },
    );
    const run = await runHook('claude-code', bash('git add -A && git push origin feature'), socket);
    const answer = run.json.hookSpecificOutput;
    assert.equal(answer.permissionDecision, 'deny');
    assert.equal(
      answer.permissionDecisionReason,
      'Paddock: this call awaits human review and was not run (running "git push origin feature"). Review id: rv-42. Follow it with `paddock review show rv-42`. Once a reviewer approves, retry the identical call; a changed call needs a new review.',
    );
  });

  it('reports every decision it makes without the PDP, for the audit trail', async () => {
    const local: LocalDecision[] = [];
    const socket = await standInHookServer(allowAll, { onLocalDecision: (decision) => local.push(decision) });
    await runHook('claude-code', bash('eval "$X"'), socket);
    await runHook('claude-code', toolEvent('claude-code', 'PreToolUse', 'Teleport', {}), socket);
    await runHook('claude-code', toolEvent('claude-code', 'PreToolUse', 'TodoWrite', { todos: [] }), socket);
    await runHook('gemini', 'not json', socket);
    await runHook('claude-code', bash('git status'), socket);
    assert.deepEqual(
      local.map((d) => [d.harness, d.toolName, d.outcome, d.reason]),
      [
        ['claude-code', 'Bash', 'deny', 'unverifiable'],
        ['claude-code', 'Teleport', 'deny', 'tool_unsupported'],
        ['claude-code', 'TodoWrite', 'allow', 'tool_inert'],
        ['gemini', null, 'deny', 'input_invalid'],
      ],
    );
    assert.match(local[0]?.message ?? '', /could not verify this command/);
    assert.equal(local[0]?.sessionId, 'abc123');
  });

  it('denies a call with nothing to check and never asks the decision point', async () => {
    let asked = 0;
    const socket = await standInHookServer(() => {
      asked += 1;
      return { decision: 'allow', policyIds: [], reason: 'x' };
    });
    const run = await runHook('claude-code', bash('# only a comment'), socket);
    assert.match(run.json.hookSpecificOutput.permissionDecisionReason, /the command runs nothing/);
    assert.equal(asked, 0);
  });

  it('creates its socket 0600 (only the sandbox uid set as owner connects), replaces a stale one, removes it on close', async () => {
    const path = socketPath();
    const quiet = { error() {}, warn() {}, info() {}, debug() {} };
    const first = await startHookServer({ socketPath: path, decide: allowAll, logger: quiet });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const second = await startHookServer({ socketPath: path, decide: allowAll, logger: quiet, mode: 0o660 });
    assert.equal(statSync(path).mode & 0o777, 0o660);
    await first.close();
    await second.close();
    assert.equal(existsSync(path), false);
  });
});
