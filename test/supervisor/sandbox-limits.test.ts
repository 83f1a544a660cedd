import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_SANDBOX_LIMITS,
  resolveLimits,
  rlimitArgs,
} from '../../src/supervisor/sandbox/sandbox-limits.ts';
import { leaseSandboxUid, SANDBOX_UID_BASE } from '../../src/supervisor/sandbox/sandbox-uid.ts';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeWorkspace, runInSandbox, runShell } from '../support/sandbox-harness.ts';

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
