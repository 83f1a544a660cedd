import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { workspaceDirs } from '../../../src/providers/index.ts';
import { connectTerminal } from '../../controlplane/broker/support/terminal-client.ts';
import { bearer, type Harness, loginToken, startHarness } from '../../controlplane/http/harness.ts';
import { brokerProxyOption, pinnedSshOptions, runSsh, type SshResult } from '../../support/ssh-client.ts';

// Issue 6 (control plane), SSH ProxyCommand into a real workspace, all real: the control plane
// on a real HTTP server (sign-in by the embedded IdP, the route table, the broker), the
// lifecycle starting the workspace through the local provider, whose supervisor dials the
// channel and answers `mode=ssh` with `sshd -i` in the workspace's sandbox; OpenSSH's client
// with `ProxyCommand='paddock connect --stdio %h'` and the host key fetched from the API.
// Needs root, like every sandbox test.

const PADDOCK = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));
const WS = 'ws-alice';
const ALICE = 'alice@example.com';
const CONNECT_MS = 30_000;

describe('SSH into a workspace through the broker (ProxyCommand), end to end', () => {
  let dir: string;
  let h: Harness;
  let aliceToken: string;
  let alice: { key: string; pub: string };
  let mallory: { key: string; pub: string };
  let knownHosts: string;

  const keyPair = (name: string) => {
    const key = join(dir, name);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
    return { key, pub: readFileSync(`${key}.pub`, 'utf8').trim() };
  };

  function ssh(
    identity: string,
    token: string,
    command: string,
    hosts = knownHosts,
    options: readonly string[] = [],
  ): Promise<SshResult> {
    return runSsh(
      [
        ...pinnedSshOptions(identity, hosts),
        ...brokerProxyOption(PADDOCK),
        ...options,
        `agent@${WS}`,
        command,
      ],
      {
        PATH: '/usr/bin:/bin',
        HOME: dir,
        XDG_CONFIG_HOME: join(dir, 'no-saved-session'),
        PADDOCK_SERVER: h.origin,
        PADDOCK_TOKEN: token,
      },
    );
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pdk-ws-ssh-'));
    h = await startHarness({ storeUrl: `sqlite:${join(dir, 'store.db')}` });
    await h.store.createUser({ id: ALICE, displayName: 'Alice Engineer' });
    await h.store.createWorkspace({
      id: WS,
      owner: ALICE,
      profile: 'standard-local',
      provider: 'local',
      state: 'created',
    });
    alice = keyPair('alice');
    mallory = keyPair('mallory');
    aliceToken = await loginToken(h.origin, ALICE);
    const started = await fetch(`${h.origin}/api/workspaces/${WS}/actions/start`, {
      method: 'POST',
      headers: bearer(aliceToken),
    });
    assert.equal(started.status, 200, await started.text());
    const deadline = Date.now() + CONNECT_MS;
    for (;;) {
      const view = (await (
        await fetch(`${h.origin}/api/workspaces/${WS}`, { headers: bearer(aliceToken) })
      ).json()) as { connected: boolean };
      if (view.connected) break;
      assert.ok(Date.now() < deadline, 'the workspace connected');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the host key the supervisor generated outside the home, with its fingerprint', async () => {
    const response = await fetch(`${h.origin}/api/workspaces/${WS}/ssh-host-key`, {
      headers: bearer(aliceToken),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      workspaceId: string;
      hostKey: string;
      fingerprint: string;
      knownHosts: string;
    };
    const sshDir = join(workspaceDirs(h.dataDir, WS).root, 'ssh');
    const onDisk = readFileSync(join(sshDir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    assert.equal(body.hostKey, onDisk);
    assert.equal(body.workspaceId, WS);
    assert.equal(body.knownHosts, `${WS} ${onDisk}`);
    const listed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(sshDir, 'host_key.pub')])
      .toString()
      .split(' ')[1];
    assert.equal(body.fingerprint, listed);
    assert.equal(statSync(join(sshDir, 'host_key')).uid, 0, 'the host key is root-owned, outside the home');
    knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `${body.knownHosts}\n`);
  });

  it('an authorized key written in a shell terminal lets the owner in over SSH, in the sandbox', async () => {
    const shell = await connectTerminal(h.origin.replace(/^http:/, 'ws:'), WS, { token: aliceToken });
    shell.type(
      `mkdir -p ~/.ssh && chmod 700 ~/.ssh && printf '%s\\n' '${alice.pub}' > ~/.ssh/authorized_keys && echo KEY""SET\n`,
    );
    await shell.waitFor(/\rKEYSET\r\n/, 20_000);
    shell.type('exit\n');
    await shell.closed;
    assert.ok(existsSync(join(workspaceDirs(h.dataDir, WS).home, '.ssh', 'authorized_keys')));

    const result = await ssh(alice.key, aliceToken, 'id -u; echo $HOME; exit 7');
    assert.equal(result.code, 7, `ssh: ${result.err}`);
    assert.equal(result.out, '1000\n/home/agent\n');
    const attached = h.events.filter(
      (event) => (event['metadata'] as { event_code: string }).event_code === 'terminal.attached',
    );
    const unmapped = attached.at(-1)?.['unmapped'] as { paddock?: { mode?: string } } | undefined;
    assert.equal(unmapped?.paddock?.mode, 'ssh');
  });

  it('ssh -tt gets a pty from the sandbox; an authorized_keys others may write is refused (StrictModes)', async () => {
    const tty = await ssh(alice.key, aliceToken, 'tty', knownHosts, ['-tt']);
    assert.equal(tty.code, 0, tty.err);
    assert.match(tty.out, /^\/dev\/pts\/\d+\r\n$/);
    const loosened = await ssh(alice.key, aliceToken, 'chmod 666 ~/.ssh/authorized_keys');
    assert.equal(loosened.code, 0, loosened.err);
    const refused = await ssh(alice.key, aliceToken, 'id');
    assert.equal(refused.code, 255);
    assert.match(refused.err, /Permission denied \(publickey\)/);
    // Put right from a shell terminal, as the user would.
    const shell = await connectTerminal(h.origin.replace(/^http:/, 'ws:'), WS, { token: aliceToken });
    shell.type('chmod 600 ~/.ssh/authorized_keys && echo FIX""ED; exit\n');
    await shell.waitFor(/\rFIXED\r\n/, 20_000);
    await shell.closed;
    assert.equal((await ssh(alice.key, aliceToken, 'true')).code, 0);
  });

  it('the SSH session cannot replace the host key or sshd_config (bound read-only)', async () => {
    const result = await ssh(
      alice.key,
      aliceToken,
      'echo "AuthorizedKeysFile none" >> /etc/paddock-ssh/sshd_config && echo WROTE; rm -f /etc/paddock-ssh/host_key && echo REMOVED; true',
    );
    assert.equal(result.code, 0, result.err);
    assert.doesNotMatch(result.out, /WROTE|REMOVED/);
    assert.match(result.err, /Read-only file system|Permission denied/);
  });

  it('refuses a key the user did not authorize', async () => {
    const result = await ssh(mallory.key, aliceToken, 'id');
    assert.equal(result.code, 255);
    assert.match(result.err, /Permission denied \(publickey\)/);
    assert.equal(result.out, '');
  });

  it("refuses another user's token at the broker, before any SSH", async () => {
    const carolToken = await loginToken(h.origin, 'carol@example.com');
    const result = await ssh(alice.key, carolToken, 'id');
    assert.equal(result.code, 255);
    assert.match(result.err, /PDK_AUTH_FORBIDDEN/);
    assert.equal(result.out, '');
  });

  it('a client that pinned another host key refuses the workspace', async () => {
    const other = join(dir, 'other-host');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const hosts = join(dir, 'known_hosts-other');
    writeFileSync(hosts, `${WS} ${readFileSync(`${other}.pub`, 'utf8').trim()}\n`);
    const result = await ssh(alice.key, aliceToken, 'id', hosts);
    assert.equal(result.code, 255);
    assert.match(result.err, /Host key verification failed/);
  });
});
