import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createOcsfEventCheck, type OcsfEvent } from '../../src/audit/index.ts';
import { runSandbox } from '../../src/supervisor/index.ts';
import {
  gitHookChanges,
  rescanGitHooks,
  snapshotGitHooks,
} from '../../src/supervisor/sandbox/git-hook-report.ts';
import { scanGitRepositories } from '../../src/supervisor/sandbox/git-scan.ts';
import { OCSF_SCHEMA_DIR } from '../audit/ocsf-schema.ts';
import { makeWorkspace, WRITABLE_WORKSPACE } from '../support/sandbox-harness.ts';

// What protects the host user from hooks in repositories the agent creates (issue 3): the
// supervisor compares hooks and code-running config before and after the run and reports
// what the run wrote as a Detection Finding.

const gitInit = (dir: string, ...args: string[]) => execFileSync('git', ['init', '-q', ...args, dir]);

/** Scans `dir`, lets `change` edit it, scans again (as the report after a run does). */
function changesAfter(dir: string, change: () => void) {
  const scope = { host: dir, dest: '/workspace', skip: [], scan: scanGitRepositories(dir) };
  const before = snapshotGitHooks([scope]);
  change();
  return gitHookChanges(before, rescanGitHooks([scope])).changes.map(
    (c) => `${c.change} ${c.kind} ${c.dest}`,
  );
}

describe('git hook report (host side)', () => {
  it('reports new hooks, never *.sample; code-running config, not a plain one', () => {
    const workspace = makeWorkspace();
    try {
      const changes = changesAfter(workspace.dir, () => {
        gitInit(join(workspace.dir, 'plain')); // a dozen *.sample hooks and a plain config
        gitInit(join(workspace.dir, 'evil'));
        writeFileSync(join(workspace.dir, 'evil/.git/hooks/pre-commit'), '#!/bin/sh\necho PWNED\n');
        execFileSync('git', ['-C', join(workspace.dir, 'evil'), 'config', 'core.fsmonitor', 'touch /tmp/x']);
        gitInit(join(workspace.dir, 'aliased'));
        execFileSync('git', ['-C', join(workspace.dir, 'aliased'), 'config', 'alias.st', '!sh -c id']);
      });
      assert.deepEqual(changes, [
        'new config /workspace/aliased/.git/config',
        'new config /workspace/evil/.git/config',
        'new hook /workspace/evil/.git/hooks/pre-commit',
      ]);
    } finally {
      workspace.remove();
    }
  });

  it('reports a hook rewritten in place (even with its mtime put back), a redirected .git and a hooks symlink', () => {
    const workspace = makeWorkspace();
    try {
      const repo = join(workspace.dir, 'repo');
      gitInit(repo);
      const hook = join(repo, '.git/hooks/post-checkout');
      writeFileSync(hook, '#!/bin/sh\ntrue\n');
      mkdirSync(join(workspace.dir, 'sub'));
      writeFileSync(join(workspace.dir, 'sub/.git'), 'gitdir: ../repo/.git\n');
      const changes = changesAfter(workspace.dir, () => {
        writeFileSync(hook, '#!/bin/sh\nid\n');
        execFileSync('touch', ['-d', '2001-01-01', hook]);
        writeFileSync(join(workspace.dir, 'sub/.git'), 'gitdir: /tmp/elsewhere\n');
        gitInit(join(workspace.dir, 'linked'));
        execFileSync('rm', ['-rf', join(workspace.dir, 'linked/.git/hooks')]);
        symlinkSync('/tmp', join(workspace.dir, 'linked/.git/hooks'));
      });
      assert.deepEqual(changes, [
        'new hook /workspace/linked/.git/hooks',
        'changed hook /workspace/repo/.git/hooks/post-checkout',
        'changed pointer /workspace/sub/.git',
      ]);
    } finally {
      workspace.remove();
    }
  });
});

describe('git hook report (real sandbox)', () => {
  const run = async (script: string) => {
    const workspace = makeWorkspace();
    const events: OcsfEvent[] = [];
    try {
      const result = await runSandbox({
        command: ['/bin/sh', '-c', script],
        workdir: workspace.dir,
        dataScope: WRITABLE_WORKSPACE,
        hostEnv: {},
        stdio: ['ignore', 'ignore', 'ignore'],
        audit: async (event) => {
          events.push(event);
        },
      });
      const findings = events.filter(
        (event) =>
          (event as { finding_info?: { analytic?: { uid?: string } } }).finding_info?.analytic?.uid ===
          'sandbox.git_hooks_written',
      ) as (OcsfEvent & { finding_info: { desc: string }; evidences: { file?: { path: string } }[] })[];
      return { result, findings, dir: workspace.dir };
    } finally {
      workspace.remove();
    }
  };

  it('reports hooks the agent wrote into a repository it created, as a Detection Finding', async () => {
    const { result, findings, dir } = await run(
      "git init -q made && printf '#!/bin/sh\\nid\\n' > made/.git/hooks/pre-push && chmod +x made/.git/hooks/pre-push",
    );
    assert.equal(result.exitCode, 0);
    assert.deepEqual(
      result.gitHooksWritten.map((c) => [c.path, c.dest, c.kind, c.change]),
      [[join(dir, 'made/.git/hooks/pre-push'), '/workspace/made/.git/hooks/pre-push', 'hook', 'new']],
    );
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.class_uid, 2004);
    assert.match(findings[0]!.finding_info.desc, /made\/\.git\/hooks\/pre-push \(hook, new\)/);
    assert.ok(findings[0]!.evidences.some((e) => e.file?.path === join(dir, 'made/.git/hooks/pre-push')));
    createOcsfEventCheck(OCSF_SCHEMA_DIR)(findings[0]); // valid OCSF 1.8.0, or it throws
  });

  it('stays quiet for ordinary git work: init, commit, a plain clone', async () => {
    const { result, findings } = await run(
      'git init -q a && cd a && echo x > x && git add x && git -c user.name=A -c user.email=a@example.com commit -qm m && git clone -q . ../b',
    );
    assert.equal(result.exitCode, 0);
    assert.deepEqual(result.gitHooksWritten, []);
    assert.equal(findings.length, 0);
  });
});
