import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensureNativeBinaries } from '../../src/supervisor/sandbox/native-binaries.ts';
import { runShell } from '../support/sandbox-harness.ts';

// Landlock is the second filesystem layer: the shim must restrict on its own, outside any
// mount namespace, so that a hole in the bind mounts would still not open the host.

const { landlockExec } = ensureNativeBinaries();

describe('landlock-exec', () => {
  it('reports the kernel ABI', () => {
    const abi = Number(execFileSync(landlockExec, ['--abi'], { encoding: 'utf8' }));
    assert.ok(abi >= 1, `Landlock ABI ${abi}: the sandbox requires Landlock on this host`);
  });

  it('confines a process to its rules, with no mount namespace at all', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdk-ll-'));
    try {
      writeFileSync(join(dir, 'inside'), 'ok');
      const run = spawnSync(
        landlockExec,
        [
          '--ro',
          '/usr',
          '--ro',
          '/etc/ld.so.cache',
          '--rw',
          dir,
          '--',
          '/bin/sh',
          '-c',
          `cat ${dir}/inside; echo w > ${dir}/new && echo wrote; cat /etc/hostname || echo denied-etc; touch /tmp/pdk-ll-escape || echo denied-tmp`,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(run.stdout, 'okwrote\ndenied-etc\ndenied-tmp\n', run.stderr);
      assert.match(run.stderr, /Permission denied/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closes inherited descriptors before exec (an O_PATH fd of a host directory is a way out)', () => {
    const run = spawnSync(
      '/bin/sh',
      ['-c', `exec 7</etc/hostname; ${landlockExec} --ro / -- /bin/sh -c 'ls /proc/self/fd'`],
      { encoding: 'utf8' },
    );
    assert.equal(run.stdout.trim().split('\n').sort().join(' '), '0 1 2 3', run.stderr); // 3: ls's own directory fd
  });

  it('fails closed with exit 125 on a bad argument, and 127 for a missing command', () => {
    assert.equal(spawnSync(landlockExec, ['--bogus', '--', 'true']).status, 125);
    assert.equal(spawnSync(landlockExec, ['--ro', '/usr', '--', 'no-such-command']).status, 127);
  });

  it("is active inside every sandbox: its scoped signals cannot reach bubblewrap's init (pid 1)", async () => {
    // Same uid, same pid namespace: only Landlock's signal scope (ABI 6+) refuses this.
    const run = await runShell(
      'kill -0 1 2>&1 && echo signalled || echo refused; kill -0 $$ && echo self-ok',
    );
    assert.match(run.stdout, /refused/);
    assert.match(run.stdout, /self-ok/);
  });
});
