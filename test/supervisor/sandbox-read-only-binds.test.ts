import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { HostPathInfo } from '../../src/supervisor/sandbox/host-probe.ts';
import { type ReadOnlyBind, planMounts } from '../../src/supervisor/sandbox/mount-plan.ts';
import type { DataScope } from '../../src/supervisor/sandbox/sandbox-types.ts';
import { runShell } from '../support/sandbox-harness.ts';

// The launcher's `readOnlyBinds` option: supervisor files (hook socket, managed settings, a
// native client) shown read-only at fixed sandbox paths, never where the agent writes or where
// the system view lives. Planned against a described host, then through a REAL sandbox.

const dir: HostPathInfo = { kind: 'dir', uid: 0, gid: 0 };
const file: HostPathInfo = { kind: 'file', uid: 0, gid: 0 };
const HOST: Record<string, HostPathInfo> = {
  '/usr': dir,
  '/home/alice/proj': { kind: 'dir', uid: 4242, gid: 4242 },
  '/srv/hooks': dir,
  '/data': dir,
  '/srv/hooks/settings.json': file,
  '/srv/link': { kind: 'symlink', uid: 0, gid: 0, target: '/etc/shadow' },
};
const WRITE_WS: DataScope = { read: [], write: ['/workspace', '/data'], deny: ['/secret'] };

function plan(readOnlyBinds: ReadOnlyBind[], dataScope: DataScope = WRITE_WS) {
  return planMounts({
    dataScope,
    workdir: '/home/alice/proj',
    probe: (path) => HOST[path] ?? { kind: 'missing', uid: -1, gid: -1 },
    etcMirror: '/run/paddock/etc',
    emptyFile: '/run/paddock/empty',
    readOnlyBinds,
  });
}

describe('planMounts readOnlyBinds', () => {
  it('binds each read-only after every scope and before the read-only root', () => {
    const { mounts, landlock } = plan([
      { host: '/srv/hooks/settings.json', dest: '/etc/claude-code/managed-settings.json' },
      { host: '/srv/hooks', dest: '/run/paddock/hooks' },
      { host: '/srv/hooks/settings.json', dest: '/home/agent/.claude/settings.json' },
      { host: '/srv/hooks', dest: '/opt/paddock-tools' },
    ]);
    const tail = mounts.slice(-7);
    assert.deepEqual(tail, [
      { kind: 'tmpfs', dest: '/etc/claude-code', readOnly: false },
      {
        kind: 'bind',
        host: '/srv/hooks/settings.json',
        dest: '/etc/claude-code/managed-settings.json',
        writable: false,
        fd: false,
      },
      { kind: 'bind', host: '/srv/hooks', dest: '/run/paddock/hooks', writable: false, fd: false },
      {
        kind: 'bind',
        host: '/srv/hooks/settings.json',
        dest: '/home/agent/.claude/settings.json',
        writable: false,
        fd: false,
      },
      { kind: 'bind', host: '/srv/hooks', dest: '/opt/paddock-tools', writable: false, fd: false },
      { kind: 'remount-ro', dest: '/etc/claude-code' },
      { kind: 'remount-ro', dest: '/' },
    ]);
    // /etc and HOME have rules already; the others get read-only rules of their own.
    assert.ok(landlock.readOnly.includes('/run/paddock/hooks'));
    assert.ok(landlock.readOnly.includes('/opt/paddock-tools'));
    assert.ok(!landlock.readOnly.includes('/etc/claude-code/managed-settings.json'));
  });

  it('refuses destinations inside writable, hidden or system paths, with the reason', () => {
    const refused: [string, string, RegExp][] = [
      ['/srv/hooks', '/workspace/.hooks', /inside \/workspace/],
      ['/srv/hooks', '/data/x', /overlaps the writable scope \/data/],
      ['/srv/hooks', '/secret/x', /overlaps the hidden path \/secret/],
      ['/srv/hooks', '/usr/bin/git', /overlaps \/usr, which the sandbox provides itself/],
      ['/srv/hooks', '/etc/passwd', /overlaps \/etc/],
      ['/srv/hooks', '/etc/paddock/ca.pem', /overlaps \/etc/],
      ['/srv/hooks', '/run/paddock/pdp.sock', /overlaps \/run/],
      ['/srv/hooks', '/home/agent/.bashrc', /overlaps \/home\/agent/],
      ['/srv/hooks', '/var', /overlaps \/var\/lib/],
      ['/srv/hooks', '/opt/../etc/x', /absolute and normalized/],
      ['/srv/hooks', 'run/paddock/x', /absolute and normalized/],
      ['/srv/missing', '/run/paddock/x', /does not exist on the host/],
      ['/srv/link', '/run/paddock/x', /is a symlink/],
    ];
    for (const [host, dest, message] of refused) {
      assert.throws(
        () => plan([{ host, dest }]),
        (error: Error & { code?: string }) =>
          error.code === 'PDK_SANDBOX_SCOPE' && message.test(error.message) && error.message.includes(dest),
        dest,
      );
    }
    assert.throws(
      () =>
        plan([
          { host: '/srv/hooks', dest: '/run/paddock/x' },
          { host: '/srv/hooks', dest: '/run/paddock/x' },
        ]),
      /bound twice/,
    );
  });

  it('allows /etc/paddock-*, /run/paddock/* and every harness settings path', () => {
    for (const dest of [
      '/etc/paddock-hook',
      '/run/paddock/hook.sock',
      '/etc/codex/requirements.toml',
      '/etc/gemini-cli/settings.json',
      '/home/agent/.gemini/settings.json',
      '/home/agent/.profile',
    ])
      assert.doesNotThrow(() => plan([{ host: '/srv/hooks/settings.json', dest }]), dest);
  });
});

describe('readOnlyBinds in a real sandbox', () => {
  const host = mkdtempSync(join(tmpdir(), 'pdk-robind-'));
  after(() => rmSync(host, { recursive: true, force: true }));

  it('shows the file and directory; the agent can read them and write through neither', async () => {
    chmodSync(host, 0o755);
    mkdirSync(join(host, 'dir'), { mode: 0o777 });
    chmodSync(join(host, 'dir'), 0o777); // even world-writable on the host: the bind is read-only
    writeFileSync(join(host, 'dir', 'inner.txt'), 'inner\n', { mode: 0o666 });
    chmodSync(join(host, 'dir', 'inner.txt'), 0o666);
    writeFileSync(join(host, 'settings.json'), '{"pinned":true}\n', { mode: 0o666 });
    chmodSync(join(host, 'settings.json'), 0o666);
    const run = await runShell(
      [
        'cat /etc/claude-code/managed-settings.json /run/paddock/extra/inner.txt /home/agent/.claude/settings.json',
        'echo x >> /etc/claude-code/managed-settings.json 2>/dev/null && echo WROTE-ETC',
        'echo x >> /run/paddock/extra/inner.txt 2>/dev/null && echo WROTE-INNER',
        'touch /run/paddock/extra/new 2>/dev/null && echo WROTE-NEW',
        'touch /etc/claude-code/other 2>/dev/null && echo WROTE-ETC-DIR',
        'echo x >> /home/agent/.claude/settings.json 2>/dev/null && echo WROTE-HOME',
        'rm -f /home/agent/.claude/settings.json 2>/dev/null && echo REMOVED-HOME',
        'mv /run/paddock/extra /tmp/x 2>/dev/null && echo MOVED',
        'echo done',
      ].join('\n'),
      {
        readOnlyBinds: [
          { host: join(host, 'settings.json'), dest: '/etc/claude-code/managed-settings.json' },
          { host: join(host, 'dir'), dest: '/run/paddock/extra' },
          { host: join(host, 'settings.json'), dest: '/home/agent/.claude/settings.json' },
        ],
      },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '{"pinned":true}\ninner\n{"pinned":true}\ndone\n');
    assert.equal(readFileSync(join(host, 'settings.json'), 'utf8'), '{"pinned":true}\n');
    assert.equal(readFileSync(join(host, 'dir', 'inner.txt'), 'utf8'), 'inner\n');
    // The shared /etc mirror holds only an empty directory as the mount point.
    assert.deepEqual(readdirSync('/run/paddock/etc/claude-code'), []);
  });
});
