import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as client from '../../src/supervisor/hooks/client.js';
import {
  HARNESSES,
  HOOK_CLIENT_TIMEOUT_MS,
  HOOK_SOCKET_PATH,
  hookCommand,
  MAX_HOOK_INPUT_BYTES,
  managedSettingsFiles,
} from '../../src/supervisor/hooks/index.ts';
import { ENTRY, NATIVE_CLIENT, socketPath, standInHookServer, toolEvent } from './hooks-support.ts';

// The managed settings `paddock hook install` writes, checked against each harness's documented
// keys, and the generated hook command run for real through `sh -c`, as the harnesses run it.

const OPTIONS = { nodePath: '/opt/paddock/node/bin/node', entryPath: '/opt/paddock/bin/paddock.js' };
const out = mkdtempSync(join(tmpdir(), 'paddock-managed-'));
after(() => rmSync(out, { recursive: true, force: true }));

function only(harness: (typeof HARNESSES)[number], path: string): string {
  const file = managedSettingsFiles(harness, OPTIONS).find((f) => f.sandboxPath === path);
  assert.ok(file, path);
  return file.contents;
}

describe('managed hook settings', () => {
  it('keeps the JavaScript client in step with the constants', () => {
    assert.deepEqual(
      [client.DEFAULT_SOCKET, client.TIMEOUT_MS, client.MAX_INPUT_BYTES, [...client.HARNESSES]],
      [HOOK_SOCKET_PATH, HOOK_CLIENT_TIMEOUT_MS, MAX_HOOK_INPUT_BYTES, [...HARNESSES]],
    );
  });

  it('builds an absolute, env -i command and refuses relative paths', () => {
    assert.equal(
      hookCommand('codex', OPTIONS),
      '/usr/bin/env -i /opt/paddock/node/bin/node /opt/paddock/bin/paddock.js hook codex --socket /run/paddock/hook.sock',
    );
    assert.equal(
      hookCommand('gemini', { ...OPTIONS, socketPath: "/run/it's here.sock" }).endsWith(
        `--socket '/run/it'\\''s here.sock'`,
      ),
      true,
    );
    assert.throws(() => hookCommand('claude-code', { ...OPTIONS, nodePath: 'node' }), /must be absolute/);
    assert.equal(
      hookCommand('claude-code', { clientPath: '/etc/paddock/paddock-hook' }),
      '/usr/bin/env -i /etc/paddock/paddock-hook claude-code --socket /run/paddock/hook.sock',
    );
    assert.throws(() => hookCommand('gemini', {}), /set clientPath, or nodePath and entryPath/);
  });

  it('Claude Code: managed-settings.json hooks PreToolUse and PostToolUse for every tool, managed hooks only', () => {
    const settings = JSON.parse(only('claude-code', '/etc/claude-code/managed-settings.json'));
    const group = [
      {
        matcher: '*',
        hooks: [{ type: 'command', command: hookCommand('claude-code', OPTIONS), timeout: 10 }],
      },
    ];
    assert.deepEqual(settings, {
      allowManagedHooksOnly: true,
      hooks: { PreToolUse: group, PostToolUse: group },
    });
    assert.equal(only('claude-code', '/home/agent/.claude/settings.json'), '{}\n');
  });

  it('Codex: requirements.toml with managed hooks only, hooks pinned on, valid TOML lines', () => {
    const toml = only('codex', '/etc/codex/requirements.toml');
    for (const line of toml.split('\n')) {
      assert.match(line, /^(#.*|\s*|\[\[?[A-Za-z.]+\]\]?|[a-z_A-Z]+ = ("(?:[^"\\]|\\.)*"|true|\d+))$/, line);
    }
    assert.match(toml, /^allow_managed_hooks_only = true$/m);
    assert.match(toml, /^\[features\]\nhooks = true$/m);
    for (const event of ['PreToolUse', 'PostToolUse']) {
      assert.match(
        toml,
        new RegExp(
          `\\[\\[hooks\\.${event}\\]\\]\\nmatcher = "\\*"\\n\\n\\[\\[hooks\\.${event}\\.hooks\\]\\]\\ntype = "command"`,
        ),
      );
    }
    const commands = [...toml.matchAll(/^command = (.*)$/gm)].map((m) => JSON.parse(m[1] as string));
    assert.deepEqual(commands, [hookCommand('codex', OPTIONS), hookCommand('codex', OPTIONS)]);
    for (const name of ['.profile', '.bash_profile', '.bash_login'])
      assert.equal(only('codex', `/home/agent/${name}`), '');
  });

  it('Gemini CLI: system settings.json with BeforeTool/AfterTool hooks, hooks enabled, folder trust off', () => {
    const settings = JSON.parse(only('gemini', '/etc/gemini-cli/settings.json'));
    assert.deepEqual(settings.hooksConfig, { enabled: true });
    assert.deepEqual(settings.security, { folderTrust: { enabled: false } });
    for (const event of ['BeforeTool', 'AfterTool']) {
      const [group] = settings.hooks[event];
      assert.equal(group.matcher, '*');
      assert.deepEqual(group.hooks[0], {
        name: 'paddock-policy',
        type: 'command',
        command: hookCommand('gemini', OPTIONS),
        timeout: 10000,
        description: 'Paddock policy check',
      });
    }
    assert.equal(only('gemini', '/home/agent/.gemini/settings.json'), '{}\n');
  });

  it('the generated command runs the hook for real through sh -c (quoting, env -i ignores NODE_OPTIONS and PATH)', async () => {
    const realSocket = await standInHookServer(
      (request) =>
        request.action === 'exec' && request.argv[0] === 'curl'
          ? { decision: 'deny', policyIds: ['stand-in'], reason: 'command_denied' }
          : { decision: 'allow', policyIds: ['stand-in'], reason: 'command_allowed' },
      { socketPath: socketPath("it's a.sock") },
    );
    const commands = [
      hookCommand('claude-code', { nodePath: process.execPath, entryPath: ENTRY, socketPath: realSocket }),
      hookCommand('claude-code', { clientPath: NATIVE_CLIENT, socketPath: realSocket }),
    ];
    for (const command of commands) {
      const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn('/bin/sh', ['-c', command], {
          env: {
            NODE_OPTIONS: '--require /nonexistent.js',
            PATH: '/nonexistent',
            LD_PRELOAD: '/nonexistent.so',
          },
        });
        let stdout = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.on('close', (code) => resolve({ code, stdout }));
        child.stdin.end(JSON.stringify(toolEvent('claude-code', 'PreToolUse', 'Bash', { command: 'ls' })));
      });
      assert.equal(result.code, 0, command);
      assert.equal(JSON.parse(result.stdout).hookSpecificOutput.permissionDecision, 'allow');
    }
  });

  it('`paddock hook install` writes read-only files at their sandbox paths and lists the mounts', () => {
    const args = [
      ENTRY,
      'hook',
      'install',
      '--out',
      out,
      '--harness',
      'gemini',
      '--harness',
      'codex',
      '--node',
      OPTIONS.nodePath,
      '--entry',
      OPTIONS.entryPath,
      '--json',
    ];
    for (let run = 0; run < 2; run += 1) {
      const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      const { mounts } = JSON.parse(result.stdout);
      assert.deepEqual(
        mounts.map((m: { sandbox: string }) => m.sandbox),
        [
          '/etc/gemini-cli/settings.json',
          '/home/agent/.gemini/settings.json',
          '/etc/codex/requirements.toml',
          '/home/agent/.profile',
          '/home/agent/.bash_profile',
          '/home/agent/.bash_login',
        ],
      );
      for (const mount of mounts) {
        assert.equal(mount.host, join(out, mount.sandbox));
        assert.equal(statSync(mount.host).mode & 0o777, 0o444);
      }
    }
    assert.equal(
      readFileSync(join(out, 'etc/gemini-cli/settings.json'), 'utf8'),
      only('gemini', '/etc/gemini-cli/settings.json'),
    );
    const native = spawnSync(
      process.execPath,
      [
        ENTRY,
        'hook',
        'install',
        '--out',
        out,
        '--harness',
        'claude-code',
        '--client',
        '/etc/paddock/paddock-hook',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(native.status, 0, native.stderr);
    const settings = JSON.parse(readFileSync(join(out, 'etc/claude-code/managed-settings.json'), 'utf8'));
    assert.equal(
      settings.hooks.PreToolUse[0].hooks[0].command,
      '/usr/bin/env -i /etc/paddock/paddock-hook claude-code --socket /run/paddock/hook.sock',
    );
    assert.match(native.stdout, /bind the hook server's socket at \/run\/paddock\/hook\.sock/);
  });

  it('`paddock hook install` refuses a missing --out, an unknown harness and a relative --node', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [ENTRY, 'hook', 'install', ...args], { encoding: 'utf8' });
    assert.match(run().stderr, /error PDK_CLI_USAGE: paddock hook install needs --out DIR/);
    assert.match(run('--out', out, '--harness', 'cursor').stderr, /unknown harness "cursor"/);
    assert.match(run('--out', out, '--node', 'node').stderr, /--node must be an absolute path/);
    assert.equal(run().status, 2);
  });
});
