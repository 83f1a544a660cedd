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
import type { GitScan } from '../../src/supervisor/sandbox/git-scan.ts';
import type { HostProbe } from '../../src/supervisor/sandbox/host-probe.ts';
import { planMounts } from '../../src/supervisor/sandbox/mount-plan.ts';
import { PROTECTED_NAMES } from '../../src/supervisor/sandbox/protected-paths.ts';
import { DEFAULT_GIT_SCAN_LIMITS } from '../../src/supervisor/sandbox/git-scan.ts';
import { makeWorkspace, runInSandbox, WORKSPACE_OWNER } from '../support/sandbox-harness.ts';

// Protected paths in a real sandbox: each one is read-only inside (existing or not), the
// placeholders the launcher creates are gone afterwards, and the host copies are untouched;
// also in repositories nested anywhere beneath a writable scope (issue 3).

const gitRepo = (dir: string) => {
  execFileSync('git', ['init', '-q', dir]);
  execFileSync('chown', ['-R', `${WORKSPACE_OWNER}:${WORKSPACE_OWNER}`, dir]);
};

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

describe('protected paths in nested repositories (mount plan)', () => {
  const scan = (found: Partial<GitScan>): GitScan => ({
    dotGitDirs: [],
    moduleGitDirs: [],
    pointerFiles: [],
    symlinks: [],
    entries: 10,
    stamps: new Map(),
    ...found,
  });
  const present: HostProbe = (path) =>
    path.endsWith('/hooks') || path === '/p' || path.endsWith('.git') || /\/modules\/\w+$/.test(path)
      ? { kind: 'dir', uid: 4242, gid: 4242 }
      : path.endsWith('/config') || path.startsWith('/usr')
        ? { kind: path.startsWith('/usr') ? 'dir' : 'file', uid: 4242, gid: 4242 }
        : { kind: 'missing', uid: -1, gid: -1 };
  const plan = (
    found: Partial<GitScan>,
    dataScope = { read: ['/workspace/ro'], write: ['/workspace'], deny: ['/workspace/hidden'] },
  ) => {
    const skipped: string[][] = [];
    const result = planMounts({
      dataScope,
      workdir: '/p',
      probe: present,
      etcMirror: '/run/paddock/etc',
      emptyFile: '/run/paddock/empty',
      scanGit: (_root, skip) => {
        skipped.push([...skip]);
        return scan(found);
      },
    });
    return { result, skipped };
  };

  it('pins each nested .git and binds its hooks and config read-only, plus submodule git dirs and pointers', () => {
    const { result, skipped } = plan({
      dotGitDirs: ['/p/.git', '/p/vendor/lib/.git'],
      moduleGitDirs: ['/p/.git/modules/sub'],
      pointerFiles: ['/p/sub/.git'],
    });
    assert.deepEqual(skipped, [['/p/ro', '/p/hidden']], 'other scopes and hidden paths are not searched');
    const binds = result.mounts
      .filter((m) => m.kind === 'bind' && /\.git/.test(m.dest))
      .map((m) => m.kind === 'bind' && `${m.writable ? 'rw' : 'ro'} ${m.dest}`);
    assert.deepEqual(binds, [
      'rw /workspace/.git',
      'ro /workspace/.git/hooks',
      'ro /workspace/.git/config',
      'rw /workspace/vendor/lib/.git',
      'ro /workspace/vendor/lib/.git/hooks',
      'ro /workspace/vendor/lib/.git/config',
      'ro /workspace/.git/modules/sub/hooks',
      'ro /workspace/.git/modules/sub/config',
      'ro /workspace/sub/.git',
    ]);
  });

  it('fails closed, naming the limit, when the scan could not see everything', () => {
    assert.throws(
      () =>
        plan({
          exhausted: {
            limit: 'maxEntries',
            value: DEFAULT_GIT_SCAN_LIMITS.maxEntries,
            path: '/p/node_modules/x',
          },
        }),
      {
        code: 'PDK_SANDBOX_GIT_SCAN_LIMIT',
        message:
          'cannot protect every git repository beneath the writable scope: the workspace has more than 200000 directory entries to search (limit maxEntries reached at /workspace/node_modules/x); narrow dataScope.write to the directories the agent must change',
      },
    );
    assert.throws(() => plan({ symlinks: ['/p/vendor/.git'] }), {
      code: 'PDK_SANDBOX_SCOPE',
      message: 'protected path /workspace/vendor/.git is a symlink; remove it before the launch',
    });
  });
});

describe('protected paths in nested repositories (real sandbox)', () => {
  it("keeps a nested checkout's hooks and config read-only, and its .git pinned, while git works there", async () => {
    const workspace = makeWorkspace();
    try {
      mkdirSync(join(workspace.dir, 'vendor', 'lib'), { recursive: true });
      gitRepo(join(workspace.dir, 'vendor', 'lib'));
      const config = readFileSync(join(workspace.dir, 'vendor/lib/.git/config'), 'utf8');
      const run = await runInSandbox(
        [
          '/bin/sh',
          '-c',
          [
            'cd vendor/lib',
            'echo a > a && git add a && git -c user.name=A -c user.email=a@example.com commit -qm one && git log --oneline | wc -l',
            "{ printf '#!/bin/sh\\necho PWNED\\n' > .git/hooks/pre-commit; } 2>&1",
            'git config core.fsmonitor "touch /tmp/pwned" 2>&1',
            'mv .git .git-old 2>&1',
            'true',
          ].join('; '),
        ],
        { workdir: workspace.dir },
      );
      assert.match(run.stdout, /^1\n/, run.stderr);
      assert.match(run.stdout, /pre-commit: Read-only file system/);
      assert.match(run.stdout, /could not (write|lock) config file/);
      assert.match(run.stdout, /cannot move '\.git' to '\.git-old': Device or resource busy/);
      assert.equal(readFileSync(join(workspace.dir, 'vendor/lib/.git/config'), 'utf8'), config);
      assert.equal(existsSync(join(workspace.dir, 'vendor/lib/.git/hooks/pre-commit')), false);
    } finally {
      workspace.remove();
    }
  });

  it('protects the git directory of a submodule, kept in the superproject .git/modules', async () => {
    const workspace = makeWorkspace();
    try {
      gitRepo(workspace.dir);
      const modules = join(workspace.dir, '.git', 'modules', 'sub');
      mkdirSync(modules, { recursive: true });
      // A submodule's git directory has the layout of a bare repository: HEAD, config, hooks.
      execFileSync('git', ['init', '-q', '--bare', modules]);
      execFileSync('chown', ['-R', `${WORKSPACE_OWNER}:${WORKSPACE_OWNER}`, workspace.dir]);
      const run = await runInSandbox(
        [
          '/bin/sh',
          '-c',
          '{ touch .git/modules/sub/hooks/post-checkout; echo x >> .git/modules/sub/config; } 2>&1; true',
        ],
        { workdir: workspace.dir },
      );
      assert.match(run.stdout, /post-checkout.*Read-only file system/);
      assert.match(run.stdout, /config.*(Read-only file system|Permission denied)/);
    } finally {
      workspace.remove();
    }
  });

  it('refuses to launch when the scan cannot find every repository (fail closed)', async () => {
    const workspace = makeWorkspace();
    try {
      for (const name of ['a', 'b']) {
        mkdirSync(join(workspace.dir, name));
        gitRepo(join(workspace.dir, name));
      }
      await assert.rejects(
        runInSandbox(['true'], {
          workdir: workspace.dir,
          gitScanLimits: { ...DEFAULT_GIT_SCAN_LIMITS, maxRepositories: 1 },
        }),
        { code: 'PDK_SANDBOX_GIT_SCAN_LIMIT', message: /there are more than 1 git repositories to protect/ },
      );
      assert.deepEqual(readdirSync(workspace.dir).sort(), ['a', 'b'], 'no placeholder left behind');
    } finally {
      workspace.remove();
    }
  });
});
