import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeWorkspace } from '../../support/sandbox-harness.ts';
import { type BrokerHarness, principal, startBrokerHarness } from './support/broker-server.ts';
import { prepareSshDir, sshdTarget } from './support/sshd-target.ts';
import { brokerProxyOption, pinnedSshOptions, runSsh } from '../../support/ssh-client.ts';

// Issue 6 (control plane), SSH through the broker: OpenSSH's client with
// `ProxyCommand='paddock connect --stdio %h'`, the real CLI, the real broker, and Debian's
// `sshd -i` inside a real agent sandbox with a per-workspace host key.

const PADDOCK = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));

function keyPair(dir: string, name: string): { key: string; pub: string } {
  const key = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
  return { key, pub: readFileSync(`${key}.pub`, 'utf8') };
}

describe('SSH ProxyCommand through the broker', () => {
  const workspace = makeWorkspace();
  const home = mkdtempSync(join(tmpdir(), 'pdk-ssh-'));
  const sshDir = join(home, 'workspace-ssh');
  let harness: BrokerHarness;
  let target: ReturnType<typeof sshdTarget>;
  let alice: { key: string; pub: string };
  let mallory: { key: string; pub: string };
  let hostKey: string;

  before(async () => {
    // bwrap binds as the sandbox's uid: it must be able to reach the bound directory.
    chmodSync(home, 0o711);
    mkdirSync(sshDir, { mode: 0o755 });
    alice = keyPair(home, 'alice');
    mallory = keyPair(home, 'mallory');
    hostKey = prepareSshDir(sshDir, alice.pub);
    target = sshdTarget('ws-alice', workspace.dir, sshDir);
    harness = await startBrokerHarness({ 'ws-alice': { owner: 'alice@example.com', target } });
    harness.tokens.set('tok-alice', principal('alice@example.com', 'sess-ssh'));
    mkdirSync(join(home, 'paddock'));
    writeFileSync(
      join(home, 'paddock', 'session.json'),
      JSON.stringify({
        server: harness.url.replace(/^ws:/, 'http:'),
        token: 'tok-alice',
        expiresAt: Date.now() + 3_600_000,
      }),
    );
  });
  after(async () => {
    await harness.close();
    workspace.remove();
    rmSync(home, { recursive: true, force: true });
  });

  function ssh(
    identity: string,
    knownHost: string,
    command: string,
  ): Promise<{ code: number | null; out: string; err: string }> {
    const knownHosts = join(home, `known_hosts-${Math.random().toString(36).slice(2)}`);
    writeFileSync(knownHosts, `ws-alice ${knownHost}\n`);
    return runSsh(
      [...pinnedSshOptions(identity, knownHosts), ...brokerProxyOption(PADDOCK), 'agent@ws-alice', command],
      { PATH: '/usr/bin:/bin', HOME: home, XDG_CONFIG_HOME: home },
    );
  }

  it('runs a command over SSH in the sandbox, with the exit status', async () => {
    assert.ok(existsSync('/usr/sbin/sshd'), 'Debian openssh-server is installed (scripts/setup.sh)');
    const result = await ssh(
      alice.key,
      hostKey,
      'echo "over-ssh-$((6*7)) $(id -u) $(hostname)"; touch /workspace/from-ssh; exit 4',
    );
    assert.equal(result.code, 4, `ssh: ${result.err}\nsshd: ${target.log()}`);
    assert.match(result.out, /^over-ssh-42 1000 \S+\n$/);
    assert.ok(existsSync(join(workspace.dir, 'from-ssh')), 'the command ran in the workspace');
    assert.match(target.log(), /Accepted publickey for agent/);
    const attached = harness.events.filter((e) => e.metadata.event_code === 'terminal.attached');
    const unmapped = attached.at(-1)?.['unmapped'] as { paddock?: { mode?: string } } | undefined;
    assert.equal(unmapped?.paddock?.mode, 'ssh');
    assert.ok(
      !harness.events.some((e) => e.metadata.event_code === 'terminal.recorded'),
      'SSH is not recorded',
    );
  });

  it('refuses a key the user did not authorize', async () => {
    const result = await ssh(mallory.key, hostKey, 'id');
    assert.equal(result.code, 255);
    assert.match(result.err, /Permission denied \(publickey\)/);
  });

  it('the client detects a workspace answering with another host key', async () => {
    const other = join(home, 'other-host');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const result = await ssh(alice.key, readFileSync(`${other}.pub`, 'utf8').trim(), 'id');
    assert.equal(result.code, 255);
    assert.match(result.err, /Host key verification failed/);
  });
});
