import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TerminalExit } from '../../../src/controlplane/broker/terminal-target.ts';
import {
  CLOSE,
  encodeData,
  readIdentityFile,
  signChannelCredential,
  STREAM_WINDOW_BYTES,
  writeIdentityFile,
} from '../../../src/core/channel/index.ts';
import { isPaddockError, PaddockError } from '../../../src/core/errors.ts';
import { ChannelClient } from '../../../src/supervisor/workspace/channel-client.ts';
import { dial, dialAndHello, startChannel } from './channel-support.ts';
import { plainPtyShell } from './plain-pty-shell.ts';
import { collect } from '../../support/terminal-output.ts';

// Terminal streams over a real channel: the supervisor's ChannelClient dials a real server,
// and each terminal is a real shell on a real pty. Here the shell is NOT sandboxed (a plain
// pty process, so these tests run fast and focus on the wire); the sandboxed shell is covered
// end to end in test/supervisor/workspace/.

describe('workspace channel terminal streams (plain pty shell, not sandboxed)', () => {
  let channel: Awaited<ReturnType<typeof startChannel>>;
  let dir: string;
  let client: ChannelClient;
  const workspaceId = 'ws-streams';
  const HOST_KEY = `ssh-ed25519 ${Buffer.alloc(51, 7).toString('base64')}`;
  before(async () => {
    channel = await startChannel();
    dir = mkdtempSync(join(tmpdir(), 'paddock-channel-'));
    writeIdentityFile(join(dir, 'identity.json'), await channel.registry.issue(workspaceId));
    client = new ChannelClient({
      url: channel.server.url,
      workspaceId,
      identityFile: join(dir, 'identity.json'),
      sshHostKey: HOST_KEY,
      openTerminal: async (request) => {
        // As a workspace without sshd does: the supervisor decides which modes it serves.
        if (request.mode === 'ssh')
          throw new PaddockError('PDK_CHANNEL_TERMINAL', 'this workspace serves no ssh');
        return plainPtyShell(request.cols, request.rows);
      },
    });
    client.start();
    await channel.server.waitForConnection(workspaceId, 10_000);
  });
  after(async () => {
    client.stop();
    await channel.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (cols = 80, rows = 24) =>
    channel.server
      .target(workspaceId)
      .open({ cols, rows, mode: 'shell', userId: 'ada@example.com', attachId: 'at-1' });

  it('runs commands, resizes, and reports the exit status', async () => {
    const terminal = await open(80, 24);
    const output = collect(terminal);
    terminal.write('echo "sum=$((40 + 2))"\n');
    await output.until(/sum=42/);
    terminal.write('stty size\n');
    await output.until(/24 80/);
    terminal.resize({ cols: 132, rows: 50 });
    terminal.write('stty size\n');
    await output.until(/50 132/);
    terminal.write('exit 5\n');
    assert.deepEqual(await output.exit, { exitCode: 5, signal: null });
  });

  it('carries several terminals at once, each to its own shell', async () => {
    const [one, two] = await Promise.all([open(), open()]);
    const a = collect(one);
    const b = collect(two);
    one.write('echo one-$$\n');
    two.write('echo two-$$\n');
    const [pidA] = (await a.until(/one-(\d+)/)).slice(1);
    const [pidB] = (await b.until(/two-(\d+)/)).slice(1);
    assert.notEqual(pidA, pidB);
    assert.doesNotMatch(a.text, /two-/);
    one.close();
    two.close();
    assert.equal((await a.exit).exitCode !== 0 || (await a.exit).signal !== null, true);
    await b.exit;
  });

  it('delivers large output intact under flow control', async () => {
    const terminal = await open();
    const output = collect(terminal);
    const size = 4 * STREAM_WINDOW_BYTES;
    // stty -onlcr: newline bytes are not doubled by the pty, so the count is exact.
    terminal.write(`stty -echo -onlcr; head -c ${size} /dev/zero | tr '\\0' 'x'; echo; echo DO""NE\n`);
    await output.until(/DONE/, 30_000);
    const xs = output.text.match(/x{2,}/g)?.join('') ?? '';
    assert.equal(xs.length, size);
    terminal.close();
    await output.exit;
  });

  it("an open the workspace refuses comes back as PDK_CHANNEL_TERMINAL with the workspace's reason", async () => {
    await assert.rejects(
      channel.server
        .target(workspaceId)
        .open({ cols: 80, rows: 24, mode: 'ssh', userId: 'u', attachId: 'a' }),
      (error) => isPaddockError(error, 'PDK_CHANNEL_TERMINAL') && /serves no ssh/.test(error.message),
    );
  });

  it("the SSH host key announced in hello is the connected workspace's, and only while connected", async () => {
    assert.equal(channel.server.sshHostKey(workspaceId), HOST_KEY);
    assert.throws(
      () => channel.server.sshHostKey('ws-nobody'),
      (error) => isPaddockError(error, 'PDK_CHANNEL_NOT_CONNECTED'),
    );
  });

  it('a workspace that announced no host key serves no SSH (PDK_CHANNEL_TERMINAL)', async () => {
    const other = 'ws-no-sshd';
    const dialled = await dialAndHello(
      channel.server.url,
      await signChannelCredential(await channel.registry.issue(other)),
      other,
    );
    assert.throws(
      () => channel.server.sshHostKey(other),
      (error) => isPaddockError(error, 'PDK_CHANNEL_TERMINAL') && /does not serve SSH/.test(error.message),
    );
    dialled.ws.close();
  });

  it('a hello whose SSH host key is not an ed25519 public key line breaks the protocol', async () => {
    const other = 'ws-bad-hostkey';
    const dialled = await dial(
      channel.server.url,
      await signChannelCredential(await channel.registry.issue(other)),
    );
    if ('status' in dialled) assert.fail(`refused with ${dialled.status}`);
    const closed = new Promise<number>((resolve) => dialled.ws.once('close', (code) => resolve(code)));
    dialled.ws.send(
      JSON.stringify({
        t: 'hello',
        workspaceId: other,
        supervisorVersion: '0.0.0-test',
        protocol: 1,
        sshHostKey: 'ssh-rsa AAAA\nHost * ProxyCommand evil',
      }),
    );
    assert.equal(await closed, CLOSE.protocol);
    assert.equal(channel.server.isConnected(other), false);
  });

  it('rotation: the supervisor gets a new key, the old one stops working, the new one reconnects', async () => {
    const saved = join(dir, 'old-identity.json');
    copyFileSync(join(dir, 'identity.json'), saved);
    const old = readIdentityFile(saved);
    const kid = await channel.server.rotate(workspaceId);
    assert.notEqual(kid, old.kid);
    // The commit reaches the supervisor just after rotate resolves.
    for (let i = 0; i < 50 && readIdentityFile(join(dir, 'identity.json')).kid !== kid; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(readIdentityFile(join(dir, 'identity.json')).kid, kid);
    assert.deepEqual(await dial(channel.server.url, await signChannelCredential(old)), { status: 401 });
    // Cut the connection: the supervisor redials with the rotated identity.
    channel.server.disconnect(workspaceId, CLOSE.shutdown, 'test');
    assert.equal(channel.server.isConnected(workspaceId), false);
    await channel.server.waitForConnection(workspaceId, 10_000);
    const terminal = await open();
    const output = collect(terminal);
    terminal.write('echo after-rotation\n');
    await output.until(/after-rotation/);
    terminal.close();
    await output.exit;
  });

  it('a supervisor that overruns its window is disconnected', async () => {
    const rogue = await startChannel();
    try {
      const identity = await rogue.registry.issue('ws-rogue');
      const supervisor = await dialAndHello(
        rogue.server.url,
        await signChannelCredential(identity),
        'ws-rogue',
      );
      const opening = rogue.server
        .target('ws-rogue')
        .open({ cols: 80, rows: 24, mode: 'shell', userId: 'u', attachId: 'a' });
      const request = await supervisor.next('open');
      supervisor.ws.send(JSON.stringify({ t: 'opened', stream: request['stream'] }));
      const terminal = await opening;
      const exit = new Promise<TerminalExit>((resolve) => terminal.onExit(resolve));
      // Nobody reads this terminal, so no credit comes back: the 5th 64 KiB frame overruns it.
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      for (let i = 0; i < 5; i++) supervisor.ws.send(encodeData(request['stream'] as number, chunk));
      assert.equal(await supervisor.closed, CLOSE.protocol);
      assert.deepEqual(await exit, { exitCode: null, signal: 'SIGHUP' });
    } finally {
      await rogue.server.close();
    }
  });
});
