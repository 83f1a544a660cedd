// `paddock run`'s harness hooks (runStandalone), end to end: in a REAL sandbox under the example
// coding-agent blueprint, the native hook client named by the mounted managed settings answers a
// Claude Code PreToolUse call through the hook server and the run's PDP socket.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OcsfEvent } from '../../src/audit/index.ts';
import { loadRepository, resolveBlueprint } from '../../src/config/index.ts';
import { runStandalone } from '../../src/supervisor/index.ts';
import { EXAMPLES } from '../policy/pdp-fixtures.ts';
import { makeWorkspace } from '../support/sandbox-harness.ts';
import { sections } from './egress-sandbox-support.ts';

const payload = (command: string) =>
  JSON.stringify({
    session_id: 'cc-1',
    transcript_path: '/home/agent/.claude/t.jsonl',
    cwd: '/workspace',
    hook_event_name: 'PreToolUse',
    tool_name: 'Bash',
    tool_input: { command },
    tool_use_id: 'tu-1',
    permission_mode: 'default',
  });

describe('paddock run: harness hooks in a real sandbox', () => {
  const workspace = makeWorkspace('pdk-standalone-hooks-');
  const events: OcsfEvent[] = [];
  let output = '';
  let exitCode = -1;

  before(async () => {
    const loaded = await loadRepository(EXAMPLES);
    const resolved = resolveBlueprint(loaded.state, 'coding-agent');
    const settings = '/etc/claude-code/managed-settings.json';
    // The command exactly as the managed settings name it.
    const hook = `"$(sed -n 's/.*"command": *"\\([^"]*\\)".*/\\1/p' ${settings} | head -n 1)"`;
    const script = [
      `echo "=== command"; echo ${hook}`,
      `echo "=== push"; printf '%s' '${payload('git push origin main')}' | sh -c ${hook}; echo "exit $?"`,
      `echo "=== status"; printf '%s' '${payload('git status')}' | sh -c ${hook}; echo "exit $?"`,
      `echo "=== settings"; grep -c allowManagedHooksOnly ${settings}`,
      `{ echo x >> ${settings}; } 2>/dev/null && echo WROTE; rm -f ${settings} 2>/dev/null && echo REMOVED`,
      '{ echo x >> /home/agent/.claude/settings.json; } 2>/dev/null && echo WROTE-USER',
      'ls -l /run/paddock/hook.sock | cut -c1',
    ].join('\n');
    const result = await runStandalone({
      command: ['/bin/sh', '-c', script],
      workdir: workspace.dir,
      dataScope: { read: [], write: ['/workspace'], deny: [] },
      resolved,
      policies: loaded.state.policies,
      hostEnv: {},
      stdio: ['ignore', 'pipe', 'pipe'],
      onStarted: (sandbox) => {
        sandbox.child.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        sandbox.child.stderr?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
      },
      audit: async (event) => {
        events.push(event);
      },
    });
    exitCode = result.exitCode;
  });

  after(() => workspace.remove());

  it('runs the native client the managed settings name, with an empty environment', () => {
    assert.equal(exitCode, 0, output);
    assert.equal(
      sections(output)['command']?.trim(),
      '/usr/bin/env -i /etc/paddock-hook claude-code --socket /run/paddock/hook.sock',
      output,
    );
  });

  it('denies `git push origin main` and allows `git status` under coding-agent', () => {
    const [push, pushExit] = (sections(output)['push'] ?? '').trim().split('\n');
    const answer = JSON.parse(push ?? '{}') as {
      hookSpecificOutput?: { permissionDecision?: string; permissionDecisionReason?: string };
    };
    assert.equal(answer.hookSpecificOutput?.permissionDecision, 'deny', output);
    assert.match(answer.hookSpecificOutput?.permissionDecisionReason ?? '', /git push/);
    assert.equal(pushExit, 'exit 0');
    const [status, statusExit] = (sections(output)['status'] ?? '').trim().split('\n');
    const allowed = JSON.parse(status ?? '{}') as { hookSpecificOutput?: { permissionDecision?: string } };
    assert.equal(allowed.hookSpecificOutput?.permissionDecision, 'allow', output);
    assert.equal(statusExit, 'exit 0');
  });

  it('mounts the managed settings read-only and the hook socket', () => {
    const rest = (sections(output)['settings'] ?? '').trim().split('\n');
    assert.deepEqual(rest, ['1', 's'], output);
  });

  it('decides through the PDP socket, which audits each call', () => {
    const execs = events.filter(
      (event) => (event as unknown as { class_uid: number }).class_uid === 1007,
    ) as unknown as { status_code: string; disposition?: string }[];
    assert.ok(execs.length >= 2, JSON.stringify(events.map((event) => event.class_uid)));
  });
});
