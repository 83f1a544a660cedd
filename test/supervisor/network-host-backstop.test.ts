// Issue 3 (Network), defence in depth: if a sandbox's own ruleset were lost, the host-side
// table alone still admits only the proxy ports of the sandbox's own host address, and forwards
// nothing from or to a sandbox even with net.ipv4.ip_forward=1. Run in a throwaway namespace
// standing in for the host, so switching forwarding on touches nothing real.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { requireRoot } from './network-support.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/net-backstop.ts', import.meta.url));

interface Observed {
  guarded: { ok: boolean; code?: string }[];
  unguarded: { ok: boolean; code?: string }[];
  counter: string;
  received: string;
  hits: number[];
}

describe('host-side table as the last layer', () => {
  it('admits only the own proxy ports and forwards nothing, even with forwarding on', () => {
    requireRoot();
    const outer = `pdktest-host-${process.pid}`;
    assert.equal(spawnSync('ip', ['netns', 'add', outer]).status, 0);
    try {
      spawnSync('ip', ['-n', outer, 'link', 'set', 'lo', 'up']);
      const run = spawnSync('ip', ['netns', 'exec', outer, process.execPath, FIXTURE], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.status, 0, run.stderr);
      const observed = JSON.parse(run.stdout) as Observed;
      const [proxy, hostPort, wildcard, neighbourProxy, forwarded] = observed.guarded;
      assert.equal(proxy!.ok, true, 'the own proxy port is reachable');
      for (const [name, result] of Object.entries({ hostPort, wildcard, neighbourProxy, forwarded })) {
        assert.equal(result!.ok, false, `${name} was reachable with only the host table in place`);
      }
      assert.match(observed.counter, /packets [1-9]/, observed.counter);
      // The control run without the host table: the same attempts succeed.
      const [, openHostPort, openWildcard, , openForwarded] = observed.unguarded;
      assert.deepEqual(
        [openHostPort!.ok, openWildcard!.ok, openForwarded!.ok],
        [true, true, true],
        'control: without the host table these connect (otherwise this test proves nothing)',
      );
      assert.equal(observed.received, 'accepted', 'the forwarded control connection reached the target');
    } finally {
      spawnSync('ip', ['netns', 'del', outer]);
    }
  });
});
