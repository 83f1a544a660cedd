import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OcsfEvent } from '../../../src/audit/index.ts';
import { type HostSshConfig, SSH_ED25519_PUBLIC_KEY } from '../../../src/core/channel/index.ts';
import type { WorkspaceSupervisorConfig } from '../../../src/core/channel/index.ts';
import { PaddockError } from '../../../src/core/errors.ts';
import { type HostSsh, prepareHostSsh } from '../../../src/supervisor/workspace/host-ssh.ts';
import { openHostSshPty, openHostSshStream } from '../../../src/supervisor/workspace/host-ssh-terminal.ts';
import type { TerminalEnd, WorkspaceTerminal } from '../../../src/supervisor/workspace/pty-terminal.ts';
import { collect } from '../../support/terminal-output.ts';
import { workspaceTerminals } from '../../../src/supervisor/workspace/workspace-terminals.ts';
import { assertValidOcsf } from '../../audit/ocsf-schema.ts';
import { freePort, type HostSshd, keyPair, startHostSshd, strictDir } from '../../support/host-sshd.ts';
import { pinnedSshOptions, runSsh, type SshResult } from '../../support/ssh-client.ts';

// The Windows guest's terminal path (config.hostSsh: no sandbox; every terminal on the host's
// own OpenSSH server as one local account), exercised on Linux against real OpenSSH: Debian's
// sshd on loopback configured as the Windows one is, and Debian's ssh client on a real pty
// (node-pty; ConPTY on Windows). Runs as root: root is the one account here.

const SSH_CLIENT = execFileSync('sh', ['-c', 'command -v ssh']).toString().trim();

/** OpenSSH's client, as a user's would run, to 127.0.0.1:port with `identity`, pinning `knownHosts`. */
function ssh(port: number, identity: string, knownHosts: string, command: string): Promise<SshResult> {
  return runSsh(
    [...pinnedSshOptions(identity, knownHosts), '-p', String(port), 'root@127.0.0.1', command],
    { PATH: '/usr/bin:/bin' },
    SSH_CLIENT,
  );
}

/**
 * A TCP listener that hands each connection to a new ssh-mode host terminal and relays both
 * ways, as the channel and broker do for `ssh` mode: what a user's client speaks reaches the
 * host's server only through the terminal.
 */
async function sshModeBridge(host: () => HostSsh) {
  const ends: TerminalEnd[] = [];
  const server: Server = createServer((socket) => {
    socket.pause();
    void openHostSshStream(host()).then(
      (terminal) => {
        terminal.onData((data) => socket.write(data));
        terminal.onExit((end) => {
          ends.push(end);
          socket.end();
        });
        socket.on('data', (data: Buffer) => terminal.write(data));
        socket.on('close', () => terminal.close());
        socket.on('error', () => terminal.close());
        socket.resume();
      },
      () => socket.destroy(),
    );
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { port: (server.address() as { port: number }).port, ends, server };
}

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("host terminals (config.hostSsh, the Windows guest path) against Linux's OpenSSH", () => {
  let dir: string;
  let sshd: HostSshd;
  let config: HostSshConfig;
  let stateDir: string;
  let host: HostSsh;
  let alice: { key: string; pub: string };
  let mallory: { key: string; pub: string };
  let userKeys: string;

  before(async () => {
    dir = strictDir('paddock-host-ssh-');
    alice = keyPair(dir, 'alice');
    mallory = keyPair(dir, 'mallory');
    // The account's own keys (a user's client in ssh mode) sit in a second AuthorizedKeysFile.
    userKeys = join(dir, 'user_authorized_keys');
    writeFileSync(userKeys, `${alice.pub}\n`, { mode: 0o644 });
    const authorizedKeysFile = join(dir, 'paddock_authorized_keys');
    sshd = await startHostSshd(dir, [authorizedKeysFile, userKeys]);
    config = {
      port: sshd.port,
      account: 'root',
      hostKeyFile: sshd.hostKeyFile,
      sshClient: SSH_CLIENT,
      authorizedKeysFile,
    };
    // A state directory with a space and a percent sign, as a Windows path may have.
    stateDir = join(dir, 'Paddock Data 100%', 'host-ssh');
  });
  after(async () => {
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("prepare: the supervisor's key made once (0600), the only line of AuthorizedKeysFile, the host key pinned", () => {
    writeFileSync(config.authorizedKeysFile, `${mallory.pub}\n${alice.pub}\n`);
    host = prepareHostSsh(config, stateDir);
    const [type, key] = readFileSync(sshd.hostKeyFile, 'utf8').trim().split(' ');
    assert.equal(host.hostKey, `${type} ${key}`);
    assert.match(host.hostKey, SSH_ED25519_PUBLIC_KEY);
    assert.equal(statSync(stateDir).mode & 0o777, 0o700);
    assert.equal(statSync(host.clientKeyFile).mode & 0o777, 0o600);
    const clientPub = readFileSync(`${host.clientKeyFile}.pub`, 'utf8')
      .trim()
      .split(' ')
      .slice(0, 2)
      .join(' ');
    const authorized = readFileSync(config.authorizedKeysFile, 'utf8');
    assert.equal(
      authorized,
      `from="127.0.0.1",restrict,pty ${clientPub} paddock-workspace-supervisor\n`,
      'the stale lines are gone: the file is replaced, not appended to',
    );
    assert.equal(readFileSync(host.knownHostsFile, 'utf8'), `[127.0.0.1]:${sshd.port} ${host.hostKey}\n`);

    const again = prepareHostSsh(config, stateDir);
    assert.equal(
      readFileSync(`${again.clientKeyFile}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' '),
      clientPub,
      'a second prepare keeps the same client key',
    );
    assert.equal(readFileSync(config.authorizedKeysFile, 'utf8'), authorized);
  });

  it('shell mode: the OpenSSH client on a pty logs in as the account, runs a command, resizes, and gives its exit status', async () => {
    const terminal = await openHostSshPty(host, { cols: 80, rows: 24 });
    const output = collect(terminal, 15_000);
    terminal.write(Buffer.from('stty size; echo "host-$((6*7))-$(id -un)"\n'));
    await output.until(/host-42-root/);
    await output.until(/\b24 80\r\n/);
    terminal.resize(100, 40);
    terminal.write(Buffer.from('stty size\n'));
    await output.until(/\b40 100\r\n/);
    terminal.write(Buffer.from('exit 5\n'));
    assert.deepEqual(await output.exit, { exitCode: 5, signal: null });
    assert.match(sshd.log(), /Accepted publickey for root from 127\.0\.0\.1/);
  });

  it("attack: the user's keystrokes cannot command the local ssh client (no ~. or ~C escapes)", async () => {
    const terminal = await openHostSshPty(host, { cols: 80, rows: 24 });
    const output = collect(terminal, 15_000);
    terminal.write(Buffer.from('echo "ready-$((1+1))"\n'));
    await output.until(/ready-2/);
    // After a newline, `~C` would open the client's command line (forwardings) and `~.` would cut the connection.
    terminal.write(Buffer.from('\n~C-D 127.0.0.1:1080\n'));
    terminal.write(Buffer.from('\n~.'));
    terminal.write(Buffer.from('\necho "still-$((2+3))"\n'));
    await output.until(/still-5/);
    assert.doesNotMatch(output.text, /ssh>|Forwarding port|Connection to 127\.0\.0\.1 closed/);
    terminal.write(Buffer.from('exit 0\n'));
    assert.equal((await output.exit).exitCode, 0);
  });

  it("shell mode: the client sees none of the supervisor's environment; close() hangs it up", async () => {
    process.env['PADDOCK_HOST_SSH_TEST_SECRET'] = 'supervisor-secret';
    let terminal: WorkspaceTerminal;
    try {
      terminal = await openHostSshPty(host, { cols: 80, rows: 24 });
    } finally {
      delete process.env['PADDOCK_HOST_SSH_TEST_SECRET'];
    }
    const output = collect(terminal, 15_000);
    terminal.write(Buffer.from('echo "up-$((3+3))"\n'));
    await output.until(/up-6/);
    // The client is the process pinning a known_hosts file in this test's directory.
    const client = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .find((pid) => {
        try {
          const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          return cmdline.includes('UserKnownHostsFile=') && cmdline.includes(dir);
        } catch {
          return false;
        }
      });
    assert.ok(client, 'the ssh client process is found');
    const environ = readFileSync(`/proc/${client}/environ`, 'utf8').split('\0').filter(Boolean);
    assert.deepEqual(environ.map((entry) => entry.slice(0, entry.indexOf('='))).sort(), [
      'LANG',
      'PATH',
      'PWD',
      'TERM',
    ]);
    const closedAt = Date.now();
    terminal.close();
    const end = await output.exit;
    assert.ok(Date.now() - closedAt < 5000, `ended ${Date.now() - closedAt} ms after close`);
    assert.notEqual(end.exitCode, 0);
  });

  it("ssh mode: a user's real ssh client, through the ssh-mode terminal's socket, logs in with their key and runs a command", async () => {
    const bridge = await sshModeBridge(() => host);
    try {
      // The user pins the same host key the control plane announces (host.hostKey), by the name they dial.
      const knownHosts = join(dir, 'user_known_hosts');
      writeFileSync(knownHosts, `[127.0.0.1]:${bridge.port} ${host.hostKey}\n`);
      const result = await ssh(bridge.port, alice.key, knownHosts, 'echo "over-$((6*7))"; exit 4');
      assert.equal(result.code, 4, `ssh: ${result.err}\nsshd: ${sshd.log().slice(-2000)}`);
      assert.equal(result.out, 'over-42\n');
      await waitFor(() => bridge.ends.length === 1);
      assert.deepEqual(bridge.ends[0], { exitCode: 0, signal: null }, 'the server closed the stream cleanly');

      // A key the server does not list is refused, through the same path.
      const refused = await ssh(bridge.port, mallory.key, knownHosts, 'id');
      assert.equal(refused.code, 255);
      assert.match(refused.err, /Permission denied \(publickey\)/);
      assert.equal(refused.out, '');
    } finally {
      bridge.server.close();
    }
  });

  it("ssh mode: the server's banner waits for the first listener; pause() holds its output until resume()", async () => {
    const terminal = await openHostSshStream(host);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const output = collect(terminal, 15_000);
    await output.until(/^SSH-2\.0-OpenSSH/);
    terminal.pause();
    const before = output.text.length;
    // The client's banner: the server answers with its key exchange offer.
    terminal.write(Buffer.from('SSH-2.0-PaddockTest\r\n'));
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(output.text.length, before, 'nothing read while paused');
    terminal.resume();
    await output.until(/curve25519/);
    terminal.close();
    assert.deepEqual(await output.exit, { exitCode: 0, signal: null });
  });

  it('attack: a server presenting another host key than hostKeyFile names is refused; nothing runs', async () => {
    const other = keyPair(dir, 'other_host_key');
    const accepted = (sshd.log().match(/Accepted publickey/g) ?? []).length;
    // The pin says "other"; the server on the port presents its own key: as an impostor would.
    const pinnedElsewhere = prepareHostSsh({ ...config, hostKeyFile: `${other.key}.pub` }, stateDir);
    const marker = join(dir, 'impostor-ran');
    const terminal = await openHostSshPty(pinnedElsewhere, { cols: 80, rows: 24 });
    const output = collect(terminal, 15_000);
    terminal.write(Buffer.from(`touch ${marker}\n`));
    const end = await output.exit;
    assert.equal(end.exitCode, 255);
    assert.match(output.text, /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
    assert.equal(existsSync(marker), false);
    assert.equal((sshd.log().match(/Accepted publickey/g) ?? []).length, accepted, 'no login happened');
    host = prepareHostSsh(config, stateDir);
  });

  it("a supervisor key the server's AuthorizedKeysFile does not list is refused; prepare puts it back", async () => {
    writeFileSync(config.authorizedKeysFile, `${mallory.pub}\n`);
    const refused = await openHostSshPty(host, { cols: 80, rows: 24 });
    const output = collect(refused, 15_000);
    const end = await output.exit;
    assert.equal(end.exitCode, 255);
    assert.match(output.text, /Permission denied \(publickey\)/);

    host = prepareHostSsh(config, stateDir);
    const terminal = await openHostSshPty(host, { cols: 80, rows: 24 });
    const again = collect(terminal, 15_000);
    terminal.write(Buffer.from('echo "back-$((2+2))"; exit\n'));
    await again.until(/back-4/);
    assert.equal((await again.exit).exitCode, 0);
  });

  it('a missing or non-ed25519 host key, or a server that is not there, is PDK_CHANNEL_TERMINAL naming what to fix', async () => {
    const missing = join(dir, 'no-such-key.pub');
    assert.throws(
      () => prepareHostSsh({ ...config, hostKeyFile: missing }, join(dir, 'other-state')),
      (error: unknown) =>
        error instanceof PaddockError &&
        error.code === 'PDK_CHANNEL_TERMINAL' &&
        error.message.includes(missing) &&
        /ENOENT/.test(error.message),
    );
    const rsa = join(dir, 'rsa_host_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', rsa]);
    assert.throws(
      () => prepareHostSsh({ ...config, hostKeyFile: `${rsa}.pub` }, join(dir, 'other-state')),
      /PDK_CHANNEL_TERMINAL|is not an ed25519 public key/,
    );
    const nobody = await freePort();
    await assert.rejects(
      openHostSshStream({ ...host, port: nobody }),
      (error: unknown) =>
        error instanceof PaddockError &&
        error.code === 'PDK_CHANNEL_TERMINAL' &&
        error.message.includes(`127.0.0.1:${nobody}`),
    );
  });

  it('the supervisor audits each host terminal: logon and logoff with the user id, the account and the mode', async () => {
    const events: OcsfEvent[] = [];
    const supervisorConfig = {
      workspaceId: 'ws-windows',
      auditLog: join(dir, 'Paddock Data 100%', 'audit.log'),
      hostSsh: config,
    } as WorkspaceSupervisorConfig;
    const terminals = await workspaceTerminals(supervisorConfig, {
      audit: async (event) => {
        assertValidOcsf(event);
        events.push(event);
      },
    });
    assert.equal(terminals.sshHostKey, host.hostKey, 'the announced key is the pinned one');
    const request = { cols: 80, rows: 24, userId: 'ada@example.com', attachId: 'at-shell' } as const;
    const shell = await terminals.open({ ...request, mode: 'shell' });
    const output = collect(shell, 15_000);
    shell.write(Buffer.from('exit 3\n'));
    assert.equal((await output.exit).exitCode, 3);
    const stream = await terminals.open({ ...request, mode: 'ssh', attachId: 'at-ssh' });
    const streamEnd = new Promise((resolve) => stream.onExit(resolve));
    stream.close();
    await streamEnd;
    await waitFor(() => events.length === 4);

    const summary = events.map((event) => {
      const paddock = (event['unmapped'] as { paddock: Record<string, unknown> }).paddock;
      return [
        event.metadata.event_code,
        (event['actor'] as { user: { uid: string } }).user.uid,
        (event['user'] as { name: string }).name,
        paddock['mode'],
        paddock['attach_id'],
        paddock['exit_code'],
        event['status_id'],
      ];
    });
    assert.deepEqual(summary, [
      ['terminal.host_logon', 'ada@example.com', 'root', 'shell', 'at-shell', undefined, 1],
      ['terminal.host_logoff', 'ada@example.com', 'root', 'shell', 'at-shell', 3, 1],
      ['terminal.host_logon', 'ada@example.com', 'root', 'ssh', 'at-ssh', undefined, 1],
      ['terminal.host_logoff', 'ada@example.com', 'root', 'ssh', 'at-ssh', 0, 1],
    ]);
    assert.deepEqual(events[0]?.['dst_endpoint'], { ip: '127.0.0.1', port: sshd.port });

    // A host that cannot be prepared refuses every terminal with the reason, audited as a failed logon.
    const broken = await workspaceTerminals(
      { ...supervisorConfig, hostSsh: { ...config, hostKeyFile: join(dir, 'absent.pub') } },
      { audit: async (event) => void events.push(event) },
    );
    assert.equal(broken.sshHostKey, undefined);
    await assert.rejects(broken.open({ ...request, mode: 'shell' }), /absent\.pub/);
    const failed = events.at(-1);
    assertValidOcsf(failed);
    assert.deepEqual(
      [failed?.metadata.event_code, failed?.['status_id'], failed?.['status_code']],
      ['terminal.host_logon', 2, 'PDK_CHANNEL_TERMINAL'],
    );
  });
});
