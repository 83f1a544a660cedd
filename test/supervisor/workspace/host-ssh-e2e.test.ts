import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChannelServer, IdentityRegistry } from '../../../src/controlplane/channel/index.ts';
import { openStore, type Store } from '../../../src/controlplane/index.ts';
import { type WorkspaceSupervisorConfig, writeIdentityFile } from '../../../src/core/channel/index.ts';
import { assertValidOcsf } from '../../audit/ocsf-schema.ts';
import {
  type BrokerHarness,
  principal,
  startBrokerHarness,
} from '../../controlplane/broker/support/broker-server.ts';
import { connectTerminal } from '../../controlplane/broker/support/terminal-client.ts';
import { type HostSshd, keyPair, startHostSshd, strictDir } from '../../support/host-sshd.ts';
import { brokerProxyOption, pinnedSshOptions, runSsh } from '../../support/ssh-client.ts';

// The Windows guest's supervisor path end to end, on Linux's OpenSSH: the real supervisor
// (main.ts) started as a service wrapper starts it (config providerPid 0, `--provider-pid`),
// with `hostSsh` naming Debian's sshd on loopback; it dials the real channel server, whose
// TerminalTarget the real access broker drives from a real WebSocket (the broker's test
// harness: a FAKE bearer-token table stands in for sign-in). A shell terminal is the host's
// OpenSSH client on a pty; `ssh` mode is OpenSSH's client through `paddock connect --stdio`,
// the broker and the channel to the host's server. The supervisor's audit events reach the
// control plane's store over the channel.

const MAIN = fileURLToPath(new URL('../../../src/supervisor/workspace/main.ts', import.meta.url));
const PADDOCK = fileURLToPath(new URL('../../../bin/paddock.js', import.meta.url));
const EXAMPLE_PLATFORM = fileURLToPath(new URL('../../../examples/platform/', import.meta.url));
const SSH_CLIENT = execFileSync('sh', ['-c', 'command -v ssh']).toString().trim();
const WS = 'ws-windows';
const ALICE = 'alice@example.com';

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** main.ts as the Windows service loop starts it: its output piped, an IPC channel to its parent. */
function runMain(args: readonly string[]): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let log = '';
  const keep = (chunk: Buffer) => {
    if (log.length < 200_000) log += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, log: () => log };
}

describe("Windows supervisor path end to end on Linux's OpenSSH: main.ts with hostSsh, channel, broker", () => {
  let dir: string;
  let sshd: HostSshd;
  let store: Store;
  let channel: ChannelServer;
  let broker: BrokerHarness;
  let supervisor: ReturnType<typeof runMain>;
  let configFile: string;
  let alice: { key: string; pub: string };

  before(async () => {
    dir = strictDir('paddock-host-ssh-e2e-');
    alice = keyPair(dir, 'alice');
    const userKeys = join(dir, 'user_authorized_keys');
    writeFileSync(userKeys, `${alice.pub}\n`, { mode: 0o644 });
    const authorizedKeysFile = join(dir, 'paddock_authorized_keys');
    sshd = await startHostSshd(dir, [authorizedKeysFile, userKeys]);

    store = await openStore({ url: `sqlite:${join(dir, 'store.db')}` });
    const registry = new IdentityRegistry();
    channel = await ChannelServer.start({ registry, auditStore: store });
    const identityFile = join(dir, 'identity.json');
    writeIdentityFile(identityFile, await registry.issue(WS));
    for (const sub of ['workdir', 'home', 'state']) mkdirSync(join(dir, sub));
    const config: WorkspaceSupervisorConfig = {
      workspaceId: WS,
      channelUrl: channel.url,
      identityFile,
      configDir: EXAMPLE_PLATFORM,
      blueprint: 'coding-agent',
      profile: 'standard-local',
      workdir: join(dir, 'workdir'),
      homeDir: join(dir, 'home'),
      auditLog: join(dir, 'state', 'audit.log'),
      providerPid: 0,
      hostSsh: {
        port: sshd.port,
        account: 'root',
        hostKeyFile: sshd.hostKeyFile,
        sshClient: SSH_CLIENT,
        authorizedKeysFile,
      },
    };
    configFile = join(dir, 'supervisor.json');
    writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });

    supervisor = runMain(['--config', configFile, '--provider-pid', String(process.pid)]);
    await channel.waitForConnection(WS, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\nsupervisor: ${supervisor.log()}`);
    });
    broker = await startBrokerHarness({ [WS]: { owner: ALICE, target: channel.target(WS) } });
    broker.tokens.set('tok-alice', principal(ALICE, 'sess-alice'));
  });
  after(async () => {
    if (supervisor && supervisor.child.exitCode === null) {
      const exited = once(supervisor.child, 'exit');
      supervisor.child.kill('SIGTERM');
      await exited;
    }
    await broker?.close();
    await channel?.close();
    await store?.close();
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("announces the host server's key as the workspace's SSH host key", () => {
    const [type, key] = readFileSync(sshd.hostKeyFile, 'utf8').trim().split(' ');
    assert.equal(channel.sshHostKey(WS), `${type} ${key}`);
  });

  it("a browser terminal through the broker is a shell on the host's OpenSSH server as the account", async () => {
    const client = await connectTerminal(broker.url, WS, { token: 'tok-alice', cols: 90, rows: 30 });
    client.type('echo "win-$((6*7))-$(id -un)"; stty size\r');
    await client.waitFor(/win-42-root/, 20_000);
    await client.waitFor('30 90');
    client.resize(120, 40);
    client.type('stty size\r');
    await client.waitFor('40 120');
    client.type('exit 6\r');
    const closed = await client.closed;
    assert.equal(closed.code, 1000);
    assert.deepEqual(client.controls, [{ type: 'exit', exitCode: 6, signal: null }]);
  });

  it("ssh mode: OpenSSH's client through paddock connect, the broker and the channel reaches the host's server", async () => {
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `${WS} ${channel.sshHostKey(WS)}\n`);
    const { code, out, err } = await runSsh(
      [
        ...pinnedSshOptions(alice.key, knownHosts),
        ...brokerProxyOption(PADDOCK),
        `root@${WS}`,
        'echo "via-broker-$((2*21))"; exit 2',
      ],
      {
        PATH: '/usr/bin:/bin',
        HOME: dir,
        XDG_CONFIG_HOME: join(dir, 'no-saved-session'),
        PADDOCK_SERVER: broker.origin,
        PADDOCK_TOKEN: 'tok-alice',
      },
      SSH_CLIENT,
    );
    assert.equal(code, 2, `ssh: ${err}\nsupervisor: ${supervisor.log().slice(-2000)}`);
    assert.equal(out, 'via-broker-42\n');
    const attached = broker.events.filter((event) => event.metadata.event_code === 'terminal.attached');
    const unmapped = attached.at(-1)?.['unmapped'] as { paddock?: { mode?: string } } | undefined;
    assert.equal(unmapped?.paddock?.mode, 'ssh');
  });

  it("the supervisor's host logons and logoffs, with the user, account and mode, reach the control plane's store", async () => {
    const hostEvents = async () =>
      (await store.readAuditEvents({ source: WS, limit: 1000 }))
        .map((record) => record.event as Record<string, unknown>)
        .filter((event) =>
          String((event['metadata'] as { event_code: string }).event_code).startsWith('terminal.host_'),
        );
    await waitFor(async () => (await hostEvents()).length === 4);
    const events = await hostEvents();
    for (const event of events) assertValidOcsf(event);
    assert.deepEqual(
      events.map((event) => {
        const paddock = (event['unmapped'] as { paddock: Record<string, unknown> }).paddock;
        return [
          (event['metadata'] as { event_code: string }).event_code,
          (event['actor'] as { user: { uid: string } }).user.uid,
          (event['user'] as { name: string }).name,
          paddock['mode'],
          paddock['exit_code'],
        ];
      }),
      [
        ['terminal.host_logon', ALICE, 'root', 'shell', undefined],
        ['terminal.host_logoff', ALICE, 'root', 'shell', 6],
        ['terminal.host_logon', ALICE, 'root', 'ssh', undefined],
        ['terminal.host_logoff', ALICE, 'root', 'ssh', 0],
      ],
    );
    const started = (await store.readAuditEvents({ source: WS, limit: 1000 })).some(
      (record) =>
        (record.event as { metadata: { event_code: string } }).metadata.event_code === 'supervisor.started',
    );
    assert.ok(started, 'supervisor.started shipped too');
  });

  it('--provider-pid: without it a providerPid 0 config is refused; a pid that is not the parent means orphaned', async () => {
    const refused = runMain(['--config', configFile]);
    const [refusedCode] = (await once(refused.child, 'exit')) as [number];
    assert.equal(refusedCode, 2);
    assert.match(refused.log(), /needs --provider-pid/);
    const orphan = runMain(['--config', configFile, '--provider-pid', String(process.pid + 100_000)]);
    const [orphanCode] = (await once(orphan.child, 'exit')) as [number];
    assert.equal(orphanCode, 0);
    assert.equal(channel.isConnected(WS), true, 'the running supervisor was not disturbed');
  });

  it("the wrapper's IPC channel closing stops the supervisor (Windows keeps a dead parent's pid)", async () => {
    const exited = once(supervisor.child, 'exit');
    supervisor.child.disconnect();
    const [code] = (await exited) as [number];
    assert.equal(code, 0, supervisor.log().slice(-2000));
    await waitFor(() => !channel.isConnected(WS), 10_000);
  });

  it('SIGTERM stops the supervisor: it exits 0', async () => {
    supervisor = runMain(['--config', configFile, '--provider-pid', String(process.pid)]);
    await channel.waitForConnection(WS, 30_000);
    const exited = once(supervisor.child, 'exit');
    supervisor.child.kill('SIGTERM');
    const [code] = (await exited) as [number];
    assert.equal(code, 0, supervisor.log().slice(-2000));
  });
});
