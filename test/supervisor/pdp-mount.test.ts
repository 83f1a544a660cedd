import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostPathInfo } from '../../src/supervisor/sandbox/host-probe.ts';
import { planMounts } from '../../src/supervisor/sandbox/mount-plan.ts';
import { SANDBOX_PATHS } from '../../src/supervisor/sandbox/sandbox-types.ts';

// The launcher's `pdpSocket` option: the supervisor's socket appears read-only at
// /run/paddock/pdp.sock, after every scope mount (nothing the agent may write covers it) and
// before the root is made read-only.

const dir: HostPathInfo = { kind: 'dir', uid: 4242, gid: 4242 };

function plan(pdpSocket?: string) {
  return planMounts({
    dataScope: { read: [], write: ['/workspace'], deny: [] },
    workdir: '/home/alice/proj',
    probe: (path) =>
      path === '/home/alice/proj' || path === '/usr' ? dir : { kind: 'missing', uid: -1, gid: -1 },
    etcMirror: '/run/paddock/etc',
    emptyFile: '/run/paddock/empty',
    ...(pdpSocket ? { pdpSocket } : {}),
  });
}

describe('sandbox mount of the PDP socket', () => {
  it('binds the socket read-only at SANDBOX_PATHS.pdpSocket, last before the read-only root', () => {
    const { mounts } = plan('/run/paddock/pdp/slot-3.sock');
    const index = mounts.findIndex((mount) => 'dest' in mount && mount.dest === SANDBOX_PATHS.pdpSocket);
    assert.deepEqual(mounts[index], {
      kind: 'bind',
      host: '/run/paddock/pdp/slot-3.sock',
      dest: '/run/paddock/pdp.sock',
      writable: false,
      fd: false,
    });
    assert.deepEqual(mounts[index + 1], { kind: 'remount-ro', dest: '/' });
    assert.equal(index + 2, mounts.length);
  });

  it('mounts nothing without the option', () => {
    assert.ok(plan().mounts.every((mount) => !('dest' in mount) || mount.dest !== SANDBOX_PATHS.pdpSocket));
  });
});
