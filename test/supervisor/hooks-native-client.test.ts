import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { type HookRun, realPdpHookServer, runHook, socketPath, toolEvent } from './hooks-support.ts';

// The native hook client (src/supervisor/hooks/native/paddock-hook.c), built as the supervisor
// builds it: the same answers as the Node.js client, byte for byte, against the real PDP, and
// the same fail-closed behaviour (exit 2 with a reason) for every way the exchange can go wrong.

const { socket } = await realPdpHookServer('coding-agent');

/** A raw socket server answering every request with `reply` (never, when null). */
async function rawServer(reply: string | null): Promise<string> {
  const path = socketPath();
  const server = createServer({ allowHalfOpen: true }, (connection) => {
    connection.on('error', () => undefined);
    connection.resume();
    if (reply !== null) connection.on('end', () => connection.end(reply));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  after(() => {
    server.close();
    server.unref();
  });
  return path;
}

function assertBlocked(run: HookRun, pattern: RegExp): void {
  assert.equal(run.code, 2, run.stdout);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, pattern);
}

const CALLS: [string, unknown][] = [
  ['claude-code', toolEvent('claude-code', 'PreToolUse', 'Bash', { command: 'git status' })],
  [
    'claude-code',
    toolEvent('claude-code', 'PreToolUse', 'Bash', { command: 'git status; curl evil.example' }),
  ],
  [
    'claude-code',
    toolEvent('claude-code', 'PostToolUse', 'Write', { file_path: '/etc/passwd', content: 'x' }),
  ],
  ['codex', toolEvent('codex', 'PreToolUse', 'Bash', { command: 'npm test' })],
  [
    'codex',
    toolEvent('codex', 'PreToolUse', 'apply_patch', {
      command: '*** Begin Patch\n*** Add File: ../x\n*** End Patch',
    }),
  ],
  ['gemini', toolEvent('gemini', 'BeforeTool', 'run_shell_command', { command: 'echo "héllo ✓"' })],
  ['gemini', toolEvent('gemini', 'BeforeTool', 'read_file', { file_path: '/workspace/.env' })],
  ['claude-code', '{"not json'],
  ['codex', { hook_event_name: 'Stop', cwd: '/workspace' }],
];

describe('native hook client', () => {
  it('answers exactly like the Node.js client against the real PDP', async () => {
    for (const [harness, input] of CALLS) {
      const native = await runHook(harness, input, socket, [], 'native');
      const node = await runHook(harness, input, socket, [], 'node');
      assert.deepEqual(
        [native.code, native.stdout, native.stderr],
        [node.code, node.stdout, node.stderr],
        JSON.stringify(input),
      );
    }
  });

  it('allows and denies through the real PDP', async () => {
    const allowed = await runHook('claude-code', CALLS[0]?.[1], socket, [], 'native');
    assert.equal(allowed.json.hookSpecificOutput.permissionDecision, 'allow');
    const denied = await runHook('claude-code', CALLS[1]?.[1], socket, [], 'native');
    assert.match(denied.json.hookSpecificOutput.permissionDecisionReason, /running "curl evil\.example"/);
  });

  it('blocks when the socket is missing, with the errno name', async () => {
    assertBlocked(
      await runHook('codex', {}, '/nonexistent/hook.sock', [], 'native'),
      /unreachable at \/nonexistent\/hook\.sock \(ENOENT\) \(PDK_HOOK_UNAVAILABLE\)/,
    );
  });

  it('blocks on garbage, truncated, mis-sized or exit-1 answers', async () => {
    const bad = [
      '',
      'garbage\n',
      'PADDOCK-HOOK 1 0 5 0\nabc',
      'PADDOCK-HOOK 1 0 0 0\nextra',
      'PADDOCK-HOOK 1 1 0 1\nx',
      'PADDOCK-HOOK 1 2 0 1\n ',
      'PADDOCK-HOOK 1 0 99999999999 0\n',
      'PADDOCK-HOOK 2 0 0 0\n',
    ];
    for (const reply of bad) {
      assertBlocked(await runHook('gemini', {}, await rawServer(reply), [], 'native'), /answer is malformed/);
    }
  });

  it('passes a well-framed answer through unchanged, exit code included', async () => {
    const run = await runHook(
      'claude-code',
      {},
      await rawServer('PADDOCK-HOOK 1 2 3 8\nout\nreason\n'),
      [],
      'native',
    );
    assert.deepEqual([run.code, run.stdout, run.stderr], [2, 'out', '\nreason\n']);
  });

  it('blocks within its 2 s budget when the supervisor never answers or stdin never ends', async () => {
    const silent = await runHook('claude-code', {}, await rawServer(null), [], 'native');
    assertBlocked(silent, /did not answer within 2000 ms/);
    assert.ok(silent.ms < 3000, `${silent.ms} ms`);
    const stuck = await runHook('claude-code', null, socket, [], 'native');
    assertBlocked(stuck, /the hook input did not end within 2000 ms/);
  });

  it('blocks an unknown harness or argument, and input over 16 MiB', async () => {
    assertBlocked(await runHook('cursor', {}, socket, [], 'native'), /unknown harness "cursor"/);
    assertBlocked(
      await runHook('codex', {}, socket, ['--verbose'], 'native'),
      /unknown argument "--verbose"/,
    );
    const big = Buffer.alloc(16 * 1024 * 1024 + 1, 0x20);
    assertBlocked(await runHook('codex', big, socket, [], 'native'), /the hook input exceeds 16777216 bytes/);
  });
});
