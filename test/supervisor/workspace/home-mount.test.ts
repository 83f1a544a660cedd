import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCommandLines } from '../../../src/supervisor/sandbox/bwrap-args.ts';
import type { HostPathInfo, HostProbe } from '../../../src/supervisor/sandbox/host-probe.ts';
import { planMounts } from '../../../src/supervisor/sandbox/mount-plan.ts';

// The workspace's persistent home in the mount plan (mount-plan.ts `home`): bound writable by
// descriptor over /home/agent with its owner's files idmapped, never a root-owned directory;
// without it, HOME stays a private tmpfs.

const dir = (uid: number): HostPathInfo => ({ kind: 'dir', uid, gid: uid });

function plan(home: string | undefined, entries: Record<string, HostPathInfo>) {
  const host: Record<string, HostPathInfo> = {
    '/usr': dir(0),
    '/srv/ws/workspace': dir(1990000001),
    ...entries,
  };
  const probe: HostProbe = (path) => host[path] ?? { kind: 'missing', uid: -1, gid: -1 };
  return planMounts({
    dataScope: { read: [], write: ['/workspace'], deny: [] },
    workdir: '/srv/ws/workspace',
    probe,
    etcMirror: '/run/paddock/etc',
    emptyFile: '/run/paddock/empty',
    ...(home ? { home } : {}),
  });
}

describe('persistent workspace home', () => {
  it('is bound writable by descriptor at /home/agent, its owner idmapped, in place of the tmpfs', () => {
    const result = plan('/srv/ws/home', { '/srv/ws/home': dir(1990000001) });
    const atHome = result.mounts.filter((m) => 'dest' in m && m.dest === '/home/agent');
    assert.deepEqual(atHome, [
      { kind: 'bind', host: '/srv/ws/home', dest: '/home/agent', writable: true, fd: true },
    ]);
    assert.ok(result.idmaps.some((m) => m.host === '/srv/ws/home' && m.uid === 1990000001));
    assert.ok(result.landlock.readWrite.includes('/home/agent'));
    const lines = buildCommandLines({
      plan: result,
      command: ['bash'],
      hasNetwork: false,
      interactive: true,
      allowMissingLandlock: false,
      openFiles: 1024,
    });
    const open = lines.launcher.find((arg) => arg.endsWith(':/srv/ws/home'));
    assert.ok(open, 'the launcher opens the home as root');
    assert.ok(!lines.bwrap.includes('--new-session'), 'an interactive terminal keeps its session');
  });

  it('is a private tmpfs when no home is given', () => {
    const result = plan(undefined, {});
    assert.deepEqual(
      result.mounts.filter((m) => 'dest' in m && m.dest === '/home/agent'),
      [{ kind: 'tmpfs', dest: '/home/agent', readOnly: false }],
    );
  });

  it('refuses a root-owned or missing home', () => {
    assert.throws(() => plan('/srv/ws/home', { '/srv/ws/home': dir(0) }), /not owned by root/);
    assert.throws(() => plan('/srv/ws/missing', {}), /must be an existing directory/);
  });
});
