import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROTECTED_NAMES } from '../../src/supervisor/sandbox/protected-paths.ts';
import { makeWorkspace, runInSandbox, WORKSPACE_OWNER } from '../support/sandbox-harness.ts';

// Protected paths in a real sandbox: each one is read-only inside (existing or not), the
// placeholders the launcher creates are gone afterwards, and the host copies are untouched.

describe('protected paths (real sandbox)', () => {
  it('refuses writing or creating every protected name, and leaves no placeholder behind', async () => {
    const workspace = makeWorkspace();
    try {
      writeFileSync(join(workspace.dir, '.mcp.json'), '{"mcpServers":{}}');
      chownSync(join(workspace.dir, '.mcp.json'), WORKSPACE_OWNER, WORKSPACE_OWNER);
      const names = PROTECTED_NAMES.map((name) => name.replace(/\/$/, ''));
      const script = names
        .map(
          (name) =>
            `(echo x > /workspace/${name} || mkdir -p /workspace/${name}/sub || echo x > /workspace/${name}/f) 2>/dev/null && echo "WROTE ${name}"`,
        )
        .join('; ');
      const run = await runInSandbox(
        ['/bin/sh', '-c', `${script}; cat /workspace/.mcp.json; echo ok > /workspace/normal`],
        { workdir: workspace.dir },
      );
      assert.doesNotMatch(run.stdout, /WROTE/);
      assert.match(run.stdout, /mcpServers/, 'existing protected files stay readable');
      assert.deepEqual(
        readdirSync(workspace.dir).sort(),
        ['.mcp.json', 'normal'],
        'placeholders removed, ordinary writes kept',
      );
      assert.equal(readFileSync(join(workspace.dir, '.mcp.json'), 'utf8'), '{"mcpServers":{}}');
    } finally {
      workspace.remove();
    }
  });

  it('keeps git usable while .git/hooks and .git/config stay read-only', async () => {
    const workspace = makeWorkspace();
    try {
      execFileSync('git', ['init', '-q', workspace.dir]);
      execFileSync('chown', ['-R', `${WORKSPACE_OWNER}:${WORKSPACE_OWNER}`, workspace.dir]);
      const config = readFileSync(join(workspace.dir, '.git', 'config'), 'utf8');
      const run = await runInSandbox(
        [
          '/bin/sh',
          '-c',
          'echo a > a && git add a && git -c user.name=A -c user.email=a@example.com commit -qm one && git log --oneline | wc -l; git config core.hooksPath /tmp 2>&1; touch .git/hooks/x 2>&1',
        ],
        { workdir: workspace.dir },
      );
      assert.match(run.stdout, /^1\n/, run.stderr);
      assert.match(run.stdout, /could not (write|lock) config file/);
      assert.match(run.stdout, /Read-only file system/);
      assert.equal(readFileSync(join(workspace.dir, '.git', 'config'), 'utf8'), config);
    } finally {
      workspace.remove();
    }
  });

  it('refuses to launch when a protected name is a symlink (it would bind its target)', async () => {
    const workspace = makeWorkspace();
    try {
      symlinkSync('/root', join(workspace.dir, '.claude'));
      await assert.rejects(runInSandbox(['true'], { workdir: workspace.dir }), {
        code: 'PDK_SANDBOX_SCOPE',
        message: 'protected path /workspace/.claude is a symlink; remove it before the launch',
      });
    } finally {
      workspace.remove();
    }
  });

  it('owns files created inside by the workspace owner on the host (idmapped), not by root', async () => {
    const workspace = makeWorkspace();
    try {
      mkdirSync(join(workspace.dir, 'src'));
      chownSync(join(workspace.dir, 'src'), WORKSPACE_OWNER, WORKSPACE_OWNER);
      await runInSandbox(['/bin/sh', '-c', 'echo hi > src/new.txt'], { workdir: workspace.dir });
      const created = join(workspace.dir, 'src', 'new.txt');
      assert.ok(existsSync(created));
      assert.equal(
        execFileSync('stat', ['-c', '%u:%g', created], { encoding: 'utf8' }).trim(),
        `${WORKSPACE_OWNER}:${WORKSPACE_OWNER}`,
      );
    } finally {
      workspace.remove();
    }
  });
});
