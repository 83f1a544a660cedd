import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_SANDBOX_LIMITS,
  resolveLimits,
  rlimitArgs,
} from '../../src/supervisor/sandbox/sandbox-limits.ts';
import {
  killUidProcesses,
  leaseSandboxUid,
  SANDBOX_UID_BASE,
} from '../../src/supervisor/sandbox/sandbox-uid.ts';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { makeWorkspace, runInSandbox, runShell, WORKSPACE_OWNER } from '../support/sandbox-harness.ts';

describe('sandbox limits', () => {
  it('defaults to 512 processes, 4096 files, 4096 MiB and refuses values below the minimum', () => {
    assert.deepEqual(resolveLimits(), DEFAULT_SANDBOX_LIMITS);
    assert.deepEqual(resolveLimits({ processes: 64 }), { processes: 64, openFiles: 4096, memoryMiB: 4096 });
    assert.throws(() => resolveLimits({ processes: 2 }), /processes must be an integer of at least 8, got 2/);
    assert.throws(() => resolveLimits({ memoryMiB: 1.5 }), RangeError);
  });

  it('becomes hard rlimits: nproc, nofile, data (bytes) and no core dumps', () => {
    assert.deepEqual(rlimitArgs({ processes: 64, openFiles: 256, memoryMiB: 512 }), [
      '--rlimit',
      'nproc=64',
      '--rlimit',
      'nofile=256',
      '--rlimit',
      `data=${512 * 1024 * 1024}`,
      '--rlimit',
      'core=0',
    ]);
    // A launch holding more descriptors than the command may have: the launcher and bubblewrap
    // get room for them (landlock-exec lowers the limit before the command runs).
    assert.equal(rlimitArgs({ processes: 64, openFiles: 64, memoryMiB: 512 }, 120)[3], 'nofile=184');
    assert.equal(rlimitArgs({ processes: 64, openFiles: 4096, memoryMiB: 512 }, 120)[3], 'nofile=4096');
  });

  it('is in force inside, soft = hard, so the agent cannot raise it', async () => {
    const run = await runShell(
      'exec bash -c "ulimit -Su; ulimit -Hu; ulimit -Sn; ulimit -Hn; ulimit -Sd; ulimit -c; ulimit -n 999999 2>&1 || echo refused"',
      {
        limits: { processes: 77, openFiles: 300, memoryMiB: 1024 },
      },
    );
    const out = run.stdout.trim().split('\n');
    assert.deepEqual(out.slice(0, 6), ['77', '77', '300', '300', String(1024 * 1024), '0']);
    assert.match(run.stdout, /refused|Operation not permitted/);
  });
});

describe('sandbox limits with many workspace binds', () => {
  it('gives the command its open-file limit even when the launch holds more descriptors', {
    timeout: 30_000,
  }, async () => {
    // 25 nested repositories: three binds each, one descriptor per bind, over 64 in all.
    const workspace = makeWorkspace();
    try {
      for (let i = 0; i < 25; i++) execFileSync('git', ['init', '-q', join(workspace.dir, `repo${i}`)]);
      execFileSync('chown', ['-R', `${WORKSPACE_OWNER}:${WORKSPACE_OWNER}`, workspace.dir]);
      const run = await runInSandbox(['/bin/sh', '-c', 'ulimit -Sn; ulimit -Hn; ls /proc/self/fd | wc -l'], {
        workdir: workspace.dir,
        limits: { openFiles: 64 },
      });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.stdout.trim().split('\n').map(Number), [64, 64, 4]);
    } finally {
      workspace.remove();
    }
  });
});

describe('sandbox uids', () => {
  it('leases distinct uids from the dedicated range and reclaims a dead owner', () => {
    const slots = mkdtempSync(join(tmpdir(), 'pdk-slots-'));
    try {
      const a = leaseSandboxUid(slots);
      const b = leaseSandboxUid(slots);
      assert.notEqual(a.uid, b.uid);
      assert.ok(a.uid >= SANDBOX_UID_BASE && a.gid === a.uid);
      a.release();
      a.release();
      b.release();
      assert.deepEqual(readdirSync(slots), []);
      // Every slot held by a dead pid: all of them are reclaimable.
      for (let slot = 0; slot < 4096; slot++) writeFileSync(join(slots, String(slot)), '999999999');
      const c = leaseSandboxUid(slots);
      assert.ok(c.uid >= SANDBOX_UID_BASE);
      c.release();
      for (let slot = 0; slot < 4096; slot++) writeFileSync(join(slots, String(slot)), String(process.pid));
      assert.throws(() => leaseSandboxUid(slots), {
        code: 'PDK_SANDBOX_UID_EXHAUSTED',
        message: 'all 4096 sandbox uids are in use',
      });
    } finally {
      rmSync(slots, { recursive: true, force: true });
    }
  });

  it('kills what still runs as a uid (leftovers of a failed launch), and nothing else', async () => {
    const uid = 3_999_999; // outside the sandbox range: no launch can hold it meanwhile
    const { spawn } = await import('node:child_process');
    const leftover = spawn('sleep', ['30'], { uid, gid: uid, stdio: 'ignore' });
    const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const ended = new Promise((resolve) => leftover.on('exit', (_code, signal) => resolve(signal)));
      assert.equal(killUidProcesses(uid), 1);
      assert.equal(await ended, 'SIGKILL');
      assert.equal(bystander.exitCode, null, 'a process of another uid was killed');
    } finally {
      bystander.kill('SIGKILL');
    }
  });

  it('runs the sandbox as that unprivileged uid on the host (all four ids), mapped to 1000 inside', async () => {
    let hostIds: string[] = [];
    const workspace = makeWorkspace();
    try {
      const run = await runInSandbox(
        ['/bin/sh', '-c', 'id -u; grep NoNewPrivs /proc/self/status; sleep 0.5'],
        {
          workdir: workspace.dir,
          onUid: (uid) => {
            setTimeout(() => {
              hostIds = readdirSync('/proc')
                .filter((name) => /^\d+$/.test(name))
                .flatMap((pid) => {
                  try {
                    return [/^Uid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? ''];
                  } catch {
                    return [];
                  }
                })
                .filter((ids) => ids.split(/\s+/).includes(String(uid)));
            }, 250);
          },
        },
      );
      assert.match(run.stdout, /^1000\nNoNewPrivs:\s+1\n/);
      assert.ok(hostIds.length > 0, 'the sandbox processes were found on the host');
      for (const ids of hostIds) {
        const [real, effective, saved, fs] = ids.split(/\s+/).map(Number);
        assert.ok(
          real! >= SANDBOX_UID_BASE && real === effective && effective === saved && saved === fs,
          ids,
        );
      }
    } finally {
      workspace.remove();
    }
  });
});
