import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OcsfEvent } from '../../../src/audit/index.ts';
import type { TerminalOpenOptions } from '../../../src/controlplane/broker/terminal-target.ts';
import { ChannelServer, IdentityRegistry } from '../../../src/controlplane/channel/index.ts';
import { openStore, type Store } from '../../../src/controlplane/index.ts';
import { WorkspaceLifecycle } from '../../../src/controlplane/workspaces/index.ts';
import { readIdentityFile, signChannelCredential } from '../../../src/core/channel/index.ts';
import { LocalProvider, workspaceDirs } from '../../../src/providers/index.ts';
import { dial } from '../../controlplane/channel/channel-support.ts';
import { collect } from '../../support/terminal-output.ts';

// End to end, all real: the control plane's lifecycle starts a workspace through the local
// provider, whose supervisor process dials the channel server (a unix socket here); terminals
// opened through the control plane's TerminalTarget are login shells on real ptys inside real
// Paddock sandboxes (the example platform's coding-agent blueprint). Needs root, like every
// sandbox test.

const CONFIG_DIR = new URL('../../../examples/platform/', import.meta.url).pathname;
const WS = 'ws-e2e';
const CONNECT_MS = 30_000;

describe('workspace end to end: lifecycle, local provider, channel, sandboxed terminals', () => {
  let dataDir: string;
  let store: Store;
  let identities: IdentityRegistry;
  let channel: ChannelServer;
  let provider: LocalProvider;
  let lifecycle: WorkspaceLifecycle;
  const events: OcsfEvent[] = [];
  const terminalOptions: TerminalOpenOptions = {
    cols: 80,
    rows: 24,
    mode: 'shell',
    userId: 'ada@example.com',
    attachId: 'attach-1',
  };
  const open = () => channel.target(WS).open(terminalOptions);

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'paddock-ws-e2e-'));
    store = await openStore({ url: `sqlite:${join(dataDir, 'controlplane.db')}` });
    await store.createUser({ id: 'ada@example.com', displayName: 'Ada' });
    identities = new IdentityRegistry({ file: join(dataDir, 'identities.json') });
    channel = await ChannelServer.start({
      registry: identities,
      listen: { path: join(dataDir, 'channel.sock') },
    });
    provider = new LocalProvider({ dataDir, audit: async (event) => events.push(event) });
    lifecycle = new WorkspaceLifecycle({
      store,
      channel,
      identities,
      providers: new Map([['local', provider]]),
      configDir: CONFIG_DIR,
      blueprintFor: () => 'coding-agent',
      audit: async (event) => events.push(event),
    });
    await lifecycle.create('ada@example.com', {
      id: WS,
      owner: 'ada@example.com',
      profile: 'standard-local',
    });
  });
  after(async () => {
    await provider.close();
    await channel.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts: the supervisor dials in; a terminal runs in the sandbox with a persistent home', async () => {
    await lifecycle.start('ada@example.com', WS);
    await channel.waitForConnection(WS, CONNECT_MS);
    assert.equal((await lifecycle.get(WS)).connected, true);
    const terminal = await open();
    const output = collect(terminal);
    terminal.write('echo "uid=$(id -u) home=$HOME"\n');
    await output.until(/uid=1000 home=\/home\/agent/, 20_000);
    terminal.write('stty size\n');
    await output.until(/\r24 80\r\n/);
    terminal.resize({ cols: 100, rows: 40 });
    terminal.write('stty size\n');
    await output.until(/\r40 100\r\n/);
    terminal.write('echo kept > ~/note; exit 3\n');
    assert.deepEqual(await output.exit, { exitCode: 3, signal: null });

    // The home is the workspace's own, on the host under the data dir: the next terminal finds the file.
    // (Prompt lines end in an escape sequence and \r, so output lines are matched after a \r.)
    const again = await open();
    const second = collect(again);
    again.write('cat ~/note; exit\n');
    await second.until(/\rkept\r\n/, 20_000);
    assert.equal((await second.exit).exitCode, 0);
    assert.ok(readdirSync(workspaceDirs(dataDir, WS).home).includes('note'));
  });

  it('a supervisor killed with SIGKILL is restarted and dials in again; its terminals end', async () => {
    const terminal = await open();
    const output = collect(terminal);
    terminal.write('echo ready-$((1+1))\n');
    await output.until(/ready-2/, 20_000);
    const pid = provider.pid(WS);
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    assert.deepEqual(await output.exit, { exitCode: null, signal: 'SIGHUP' });
    for (let i = 0; i < 100 && channel.isConnected(WS); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    await channel.waitForConnection(WS, CONNECT_MS);
    const restarted = provider.pid(WS);
    assert.ok(restarted && restarted !== pid);
    assert.ok(events.some((event) => event.metadata.event_code === 'supervisor.restarted'));
    const after = await open();
    const more = collect(after);
    after.write('echo back-$((2+2)); exit\n');
    await more.until(/back-4/, 20_000);
    await more.exit;
  });

  it('closing a terminal hangs up its sandboxed shell within 5 seconds', async () => {
    const terminal = await open();
    const output = collect(terminal);
    terminal.write('echo up-$((3+3))\n');
    await output.until(/up-6/, 20_000);
    const closedAt = Date.now();
    terminal.close();
    const exit = await output.exit;
    assert.ok(Date.now() - closedAt < 5000, `closed after ${Date.now() - closedAt} ms`);
    assert.notEqual(exit.exitCode, 0);
  });

  it('stop disconnects; rebuild gives a fresh home; start again', async () => {
    const stopped = await lifecycle.stop('ada@example.com', WS);
    assert.deepEqual([stopped.state, stopped.connected], ['stopped', false]);
    assert.equal(provider.pid(WS), undefined);
    await lifecycle.rebuild('ada@example.com', WS);
    assert.deepEqual(readdirSync(workspaceDirs(dataDir, WS).home), []);
    await lifecycle.start('ada@example.com', WS);
    await channel.waitForConnection(WS, CONNECT_MS);
    const terminal = await open();
    const output = collect(terminal);
    terminal.write('test -e ~/note && echo PRE""SENT || echo AB""SENT; exit\n');
    await output.until(/\r(PRESENT|ABSENT)\r\n/, 20_000);
    assert.match(output.text, /\rABSENT\r\n/);
    await output.exit;
  });

  it('revoke closes the channel and the open terminal; the old identity cannot connect', async () => {
    const terminal = await open();
    const output = collect(terminal);
    terminal.write('echo live\n');
    await output.until(/\rlive\r\n/, 20_000);
    const identity = readIdentityFile(workspaceDirs(dataDir, WS).identityFile);
    const revoked = await lifecycle.revoke('secops@example.com', WS);
    assert.deepEqual([revoked.state, revoked.connected], ['revoked', false]);
    assert.deepEqual(await output.exit, { exitCode: null, signal: 'SIGHUP' });
    assert.equal(provider.pid(WS), undefined);
    assert.equal(existsSync(workspaceDirs(dataDir, WS).identityFile), false);
    assert.deepEqual(await dial(channel.url, await signChannelCredential(identity)), { status: 401 });
    await assert.rejects(open(), /not connected/);
  });

  it('decommission removes the data', async () => {
    await lifecycle.decommission('admin@example.com', WS);
    assert.equal(existsSync(workspaceDirs(dataDir, WS).root), false);
    assert.equal((await lifecycle.get(WS)).state, 'decommissioned');
  });
});
