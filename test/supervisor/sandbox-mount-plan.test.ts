import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCommandLines } from '../../src/supervisor/sandbox/bwrap-args.ts';
import type { HostPathInfo, HostProbe } from '../../src/supervisor/sandbox/host-probe.ts';
import { type Mount, planMounts } from '../../src/supervisor/sandbox/mount-plan.ts';
import type { DataScope } from '../../src/supervisor/sandbox/sandbox-types.ts';

// The mount planner and the bubblewrap command line, from a blueprint's dataScope, against a
// described host (a map of paths) so every rule can be checked without touching the disk.

const dir = (uid = 4242): HostPathInfo => ({ kind: 'dir', uid, gid: uid });
const file = (uid = 4242): HostPathInfo => ({ kind: 'file', uid, gid: uid });
const link = (target: string): HostPathInfo => ({ kind: 'symlink', uid: 0, gid: 0, target });

function fakeHost(entries: Record<string, HostPathInfo>): HostProbe {
  const host: Record<string, HostPathInfo> = {
    '/usr': dir(0),
    '/bin': link('usr/bin'),
    '/lib64': link('usr/lib64'),
    ...entries,
  };
  return (path) => host[path] ?? { kind: 'missing', uid: -1, gid: -1 };
}

function plan(dataScope: DataScope, entries: Record<string, HostPathInfo> = {}, policyPaths?: string[]) {
  return planMounts({
    dataScope,
    workdir: '/home/alice/proj',
    probe: fakeHost({ '/home/alice/proj': dir(), ...entries }),
    etcMirror: '/run/paddock/etc',
    emptyFile: '/run/paddock/empty',
    policyPaths,
  });
}

const binds = (mounts: Mount[]) =>
  mounts.filter((m) => m.kind === 'bind').map((m) => `${m.writable ? 'rw' : 'ro'} ${m.dest}`);
const WRITE_WS: DataScope = { read: [], write: ['/workspace'], deny: [] };

describe('planMounts', () => {
  it('binds a read-only system: /usr, merged-/usr symlinks, the /etc mirror; no host /etc, /home or /root', () => {
    const { mounts } = plan(WRITE_WS);
    assert.deepEqual(mounts.slice(0, 4), [
      { kind: 'bind', host: '/usr', dest: '/usr', writable: false, fd: false },
      { kind: 'symlink', target: 'usr/bin', dest: '/bin' },
      { kind: 'symlink', target: 'usr/lib64', dest: '/lib64' },
      { kind: 'bind', host: '/run/paddock/etc', dest: '/etc', writable: false, fd: false },
    ]);
    const hosts = mounts.filter((m) => m.kind === 'bind').map((m) => (m as { host: string }).host);
    assert.ok(!hosts.some((h) => h === '/etc' || h.startsWith('/root') || h === '/home'));
    assert.deepEqual(mounts.at(-1), { kind: 'remount-ro', dest: '/' });
  });

  it('shows the workdir as /workspace, writable only when dataScope.write says so, bound by fd', () => {
    const writable = plan(WRITE_WS).mounts.find((m) => m.kind === 'bind' && m.dest === '/workspace');
    assert.deepEqual(writable, {
      kind: 'bind',
      host: '/home/alice/proj',
      dest: '/workspace',
      writable: true,
      fd: true,
    });
    const readOnly = plan({ read: ['/workspace'], write: [], deny: [] }).mounts.find(
      (m) => m.kind === 'bind' && m.dest === '/workspace',
    );
    assert.equal(readOnly?.kind === 'bind' && readOnly.writable, false);
  });

  it('gives private tmpfs /tmp, /var/tmp and HOME, a fresh /proc and a minimal /dev', () => {
    const { mounts } = plan(WRITE_WS);
    for (const dest of ['/tmp', '/home/agent'])
      assert.ok(
        mounts.some((m) => m.kind === 'tmpfs' && m.dest === dest),
        dest,
      );
    assert.ok(mounts.some((m) => m.kind === 'proc' && m.dest === '/proc'));
    assert.ok(mounts.some((m) => m.kind === 'dev' && m.dest === '/dev'));
  });

  it('idmaps the workdir of an unprivileged owner, never a root-owned one', () => {
    assert.deepEqual(plan(WRITE_WS).idmaps, [{ host: '/home/alice/proj', uid: 4242, gid: 4242 }]);
    assert.deepEqual(plan(WRITE_WS, { '/home/alice/proj': dir(0) }).idmaps, []);
  });

  it('protects each harness, MCP and shell rc path under a writable scope, creating missing ones', () => {
    const result = plan(WRITE_WS, { '/home/alice/proj/.mcp.json': file() });
    const protectedDests = binds(result.mounts).filter((b) => b.startsWith('ro /workspace/'));
    for (const name of [
      '.claude',
      '.codex',
      '.gemini',
      '.vscode',
      '.mcp.json',
      '.bashrc',
      '.profile',
      '.bash_profile',
      '.zshrc',
      '.bash_logout',
    ]) {
      assert.ok(protectedDests.includes(`ro /workspace/${name}`), name);
    }
    const created = result.placeholders.map((p) => `${p.create} ${p.host}`);
    assert.ok(created.includes('dir /home/alice/proj/.claude'));
    assert.ok(created.includes('file /home/alice/proj/.bashrc'));
    assert.ok(
      !created.some((c) => c.endsWith('.mcp.json')),
      'an existing file is bound over itself, not recreated',
    );
  });

  it('pins an existing .git and protects its hooks and config; a missing .git is left alone', () => {
    const repo = plan(WRITE_WS, { '/home/alice/proj/.git': dir(), '/home/alice/proj/.git/config': file() });
    const order = binds(repo.mounts).filter((b) => b.includes('.git'));
    assert.deepEqual(order, ['rw /workspace/.git', 'ro /workspace/.git/hooks', 'ro /workspace/.git/config']);
    assert.ok(repo.placeholders.some((p) => p.host === '/home/alice/proj/.git/hooks' && p.create === 'dir'));
    assert.ok(!binds(plan(WRITE_WS).mounts).some((b) => b.includes('.git')));
  });

  it('protects nothing under a read-only workspace (nothing there is writable)', () => {
    const result = plan({ read: ['/workspace'], write: [], deny: [] });
    assert.equal(result.placeholders.length, 0);
  });

  it('refuses a symlink at a protected name, and a scope through a symlink', () => {
    assert.throws(() => plan(WRITE_WS, { '/home/alice/proj/.claude': link('/root/.claude') }), {
      code: 'PDK_SANDBOX_SCOPE',
      message: 'protected path /workspace/.claude is a symlink; remove it before the launch',
    });
    assert.throws(
      () => plan({ read: [], write: ['/workspace/out'], deny: [] }, { '/home/alice/proj/out': link('/etc') }),
      {
        code: 'PDK_SANDBOX_SCOPE',
        message:
          'dataScope path /workspace/out: /home/alice/proj/out is a symlink; a scope never follows one',
      },
    );
  });

  it('refuses over-broad or system scopes with the reason', () => {
    assert.throws(() => plan({ read: ['/'], write: [], deny: [] }), {
      code: 'PDK_SANDBOX_SCOPE',
      message: 'dataScope path /: the whole host filesystem is never a scope; name the directories',
    });
    assert.throws(() => plan({ read: [], write: ['/usr/local'], deny: [] }), {
      code: 'PDK_SANDBOX_SCOPE',
      message: 'dataScope path /usr/local: overlaps /usr, which the sandbox never makes writable',
    });
    assert.throws(() => plan({ read: ['/proc/1'], write: [], deny: [] }), { code: 'PDK_SANDBOX_SCOPE' });
    assert.throws(() => plan({ read: [], write: ['/workspace/missing'], deny: [] }), {
      code: 'PDK_SANDBOX_SCOPE',
      message:
        'dataScope path /workspace/missing: is writable but /home/alice/proj/missing does not exist on the host; create it first',
    });
  });

  it('binds a read scope beneath /tmp into the private /tmp, after its tmpfs; never /tmp itself or a write', () => {
    const { mounts } = plan(
      { read: ['/tmp/tools'], write: ['/workspace'], deny: [] },
      { '/tmp/tools': dir() },
    );
    const tmpfs = mounts.findIndex((m) => m.kind === 'tmpfs' && m.dest === '/tmp');
    const bind = mounts.findIndex((m) => m.kind === 'bind' && m.dest === '/tmp/tools');
    assert.ok(
      tmpfs !== -1 && bind > tmpfs,
      'the bind must come after the private /tmp, or the tmpfs hides it',
    );
    assert.deepEqual(mounts[bind], {
      kind: 'bind',
      host: '/tmp/tools',
      dest: '/tmp/tools',
      writable: false,
      fd: false,
    });
    assert.throws(() => plan({ read: ['/tmp'], write: [], deny: [] }), {
      code: 'PDK_SANDBOX_SCOPE',
      message: 'dataScope path /tmp: overlaps /tmp, which the sandbox provides itself',
    });
    assert.throws(() => plan({ read: [], write: ['/tmp/tools'], deny: [] }, { '/tmp/tools': dir() }), {
      code: 'PDK_SANDBOX_SCOPE',
      message: 'dataScope path /tmp/tools: overlaps /tmp, which the sandbox never makes writable',
    });
  });

  it('skips read scopes the system view already has, and missing ones', () => {
    const { mounts } = plan({
      read: ['/workspace', '/usr/share', '/etc/ssl', '/opt/missing'],
      write: [],
      deny: [],
    });
    assert.deepEqual(
      binds(mounts).filter((b) => /share|ssl|opt/.test(b)),
      [],
    );
  });

  it('nests scopes shallow first and lets write win over read', () => {
    const { mounts } = plan(
      { read: ['/workspace', '/workspace/out'], write: ['/workspace/out'], deny: [] },
      { '/home/alice/proj/out': dir() },
    );
    assert.deepEqual(
      binds(mounts).filter((b) => / \/workspace(\/out)?$/.test(b)),
      ['ro /workspace', 'rw /workspace/out'],
    );
  });

  it('hides denied paths last: an empty read-only tmpfs for a directory, the empty file for a file', () => {
    const { mounts } = plan(
      { read: [], write: ['/workspace'], deny: ['/workspace/.env', '/workspace/secrets', '/workspace/none'] },
      {
        '/home/alice/proj/.env': file(),
        '/home/alice/proj/secrets': dir(),
      },
    );
    const tail = mounts.slice(-3, -1);
    assert.deepEqual(tail, [
      { kind: 'bind', host: '/run/paddock/empty', dest: '/workspace/.env', writable: false, fd: false },
      { kind: 'tmpfs', dest: '/workspace/secrets', readOnly: true },
    ]);
  });

  it('binds policy files inside a writable scope read-only', () => {
    const { mounts } = plan(WRITE_WS, { '/home/alice/proj/blueprint.yaml': file() }, [
      '/home/alice/proj/blueprint.yaml',
      '/srv/other.yaml',
    ]);
    assert.ok(binds(mounts).includes('ro /workspace/blueprint.yaml'));
  });

  it('gives Landlock the same scopes: read-only system, writable scopes, tmpfs and /dev', () => {
    const { landlock } = plan(WRITE_WS);
    assert.deepEqual(landlock.readOnly, ['/usr', '/etc', '/proc']);
    assert.deepEqual(landlock.readWrite, ['/workspace', '/dev', '/tmp', '/home/agent']);
    assert.deepEqual(landlock.listOnly, ['/']);
  });
});

describe('buildCommandLines', () => {
  const lines = (hasNetwork: boolean, interactive: boolean) =>
    buildCommandLines({
      plan: plan(WRITE_WS),
      command: ['git', 'status'],
      hasNetwork,
      interactive,
      allowMissingLandlock: false,
      openFiles: 300,
    });

  it('unshares every namespace but the network when one is supplied, and disables nested user namespaces', () => {
    const { bwrap } = lines(true, false);
    for (const flag of [
      '--unshare-user',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--disable-userns',
      '--assert-userns-disabled',
      '--die-with-parent',
    ]) {
      assert.ok(bwrap.includes(flag), flag);
    }
    assert.ok(!bwrap.includes('--unshare-net'));
    assert.ok(lines(false, false).bwrap.includes('--unshare-net'), 'no network supplied: an empty namespace');
  });

  it('starts a new session unless stdin is a terminal', () => {
    assert.ok(lines(true, false).bwrap.includes('--new-session'));
    assert.ok(!lines(true, true).bwrap.includes('--new-session'));
  });

  it('binds workspace paths from descriptors the privileged launcher opens and idmaps', () => {
    const { launcher, bwrap } = lines(true, false);
    assert.deepEqual(launcher.slice(0, 4), [
      '--idmap',
      '/home/alice/proj:4242:4242',
      '--open',
      '10:/home/alice/proj',
    ]);
    const at = bwrap.indexOf('/workspace');
    assert.deepEqual(bwrap.slice(at - 2, at + 1), ['--bind-fd', '10', '/workspace']);
  });

  it('ends with the Landlock shim and the command, seccomp on fd 3', () => {
    const { bwrap } = lines(true, false);
    assert.deepEqual(bwrap.slice(bwrap.indexOf('--seccomp'), bwrap.indexOf('--seccomp') + 2), [
      '--seccomp',
      '3',
    ]);
    const shim = bwrap.indexOf('/etc/paddock/landlock-exec');
    assert.deepEqual(bwrap.slice(shim - 3, shim + 7), [
      '--chdir',
      '/workspace',
      '--',
      '/etc/paddock/landlock-exec',
      '--seccomp-log',
      '/etc/paddock/seccomp.bpf',
      '--nofile',
      '300',
      '--ro',
      '/usr',
    ]);
    assert.deepEqual(bwrap.slice(-4), ['/', '--', 'git', 'status']);
  });
});
