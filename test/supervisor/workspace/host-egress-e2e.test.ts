import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChannelServer, IdentityRegistry } from '../../../src/controlplane/channel/index.ts';
import { openStore, type Store } from '../../../src/controlplane/index.ts';
import {
  type HostEgressConfig,
  type WorkspaceSupervisorConfig,
  writeIdentityFile,
} from '../../../src/core/channel/index.ts';
import { assertValidOcsf } from '../../audit/ocsf-schema.ts';
import { until } from '../../support/cluster-releases.ts';
import { freePort, type HostSshd, listening, startHostSshd, strictDir } from '../../support/host-sshd.ts';
import { runClient, startUpstream, type Upstream } from '../egress-fixtures.ts';

// The Windows guest's egress path end to end on Linux: the real supervisor (main.ts) started as
// the Windows service loop starts it, with `hostSsh` (Debian's sshd standing in for Windows'
// OpenSSH server) and `hostEgress`; it dials the real channel server. curl, the account's
// proxy-aware client, goes through the gateway on loopback; the gateway's events reach the
// control plane's store over the channel. No name resolution is involved: the allowed service
// is an IP literal the blueprint names (with its cidr), the refused host matches no service.

const MAIN = fileURLToPath(new URL('../../../src/supervisor/workspace/main.ts', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../examples/platform/', import.meta.url));
const SSH_CLIENT = execFileSync('sh', ['-c', 'command -v ssh']).toString().trim();
const WS = 'ws-windows-egress';

const blueprintYaml = (port: number) => `apiVersion: paddock.dev/v1
kind: Blueprint
metadata: { name: host-egress-e2e, version: 1.0.0, owner: dev@example.com, incidentContact: sec@example.com, reviewCadence: 90d }
spec:
  goal: The Windows guest's egress gateway end to end.
  services:
    - name: local-api
      hosts: ["127.0.0.1"]
      ports: [${port}]
      cidrs: [127.0.0.1/32]
`;

describe("Windows egress end to end on Linux: main.ts with hostSsh and hostEgress, events in the control plane's store", () => {
  let dir: string;
  let sshd: HostSshd;
  let upstream: Upstream;
  let store: Store;
  let channel: ChannelServer;
  let supervisor: ChildProcess;
  let supervisorLog = '';
  let hostEgress: HostEgressConfig;

  before(async () => {
    dir = strictDir('paddock-host-egress-e2e-');
    upstream = await startUpstream();
    const authorizedKeysFile = join(dir, 'paddock_authorized_keys');
    sshd = await startHostSshd(dir, [authorizedKeysFile]);
    const repo = join(dir, 'repo');
    mkdirSync(join(repo, 'blueprints'), { recursive: true });
    copyFileSync(join(EXAMPLES, 'paddock.yaml'), join(repo, 'paddock.yaml'));
    writeFileSync(join(repo, 'blueprints', 'host-egress-e2e.yaml'), blueprintYaml(upstream.port));

    store = await openStore({ url: `sqlite:${join(dir, 'store.db')}` });
    const registry = new IdentityRegistry();
    channel = await ChannelServer.start({ registry, auditStore: store });
    const identityFile = join(dir, 'identity.json');
    writeIdentityFile(identityFile, await registry.issue(WS));
    for (const sub of ['workdir', 'home', 'state']) mkdirSync(join(dir, sub));
    hostEgress = {
      proxyPort: await freePort(),
      socksPort: await freePort(),
      caCertFile: join(dir, 'public', 'paddock-ca.pem'),
    };
    const config: WorkspaceSupervisorConfig = {
      workspaceId: WS,
      channelUrl: channel.url,
      identityFile,
      configDir: repo,
      blueprint: 'host-egress-e2e',
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
      hostEgress,
    };
    const configFile = join(dir, 'supervisor.json');
    writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
    supervisor = spawn(
      process.execPath,
      [MAIN, '--config', configFile, '--provider-pid', String(process.pid)],
      {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    const keep = (chunk: Buffer) => {
      if (supervisorLog.length < 200_000) supervisorLog += chunk.toString();
    };
    supervisor.stdout?.on('data', keep);
    supervisor.stderr?.on('data', keep);
    await channel.waitForConnection(WS, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\nsupervisor: ${supervisorLog}`);
    });
  });
  after(async () => {
    if (supervisor && supervisor.exitCode === null) {
      const exited = once(supervisor, 'exit');
      supervisor.kill('SIGTERM');
      await exited;
    }
    await channel?.close();
    await store?.close();
    await upstream?.close();
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the supervisor writes the CA bundle and listens on the configured loopback ports', async () => {
    assert.equal(await listening(hostEgress.proxyPort), true, supervisorLog.slice(-2000));
    assert.equal(await listening(hostEgress.socksPort), true);
    assert.match(readFileSync(hostEgress.caCertFile, 'utf8'), /-----END CERTIFICATE-----\n$/);
    assert.equal(statSync(hostEgress.caCertFile).mode & 0o777, 0o644);
  });

  it("curl through the proxy: the blueprint's service is reached, another host refused, and both events reach the control plane's store", async () => {
    const proxy = `http://127.0.0.1:${hostEgress.proxyPort}`;
    const allowed = await runClient('curl', [
      '-sS',
      '-x',
      proxy,
      `http://127.0.0.1:${upstream.port}/quiet/e2e`,
    ]);
    assert.equal(allowed.stdout, 'ok', allowed.stderr);
    const denied = await runClient('curl', ['-sS', '-x', proxy, 'http://denied.example.test/']);
    assert.match(denied.stdout, /"error":"PDK_EGRESS_DENIED"/);

    const egressEvents = async () =>
      (await store.readAuditEvents({ source: WS, limit: 1000 }))
        .map((record) => record.event as Record<string, unknown>)
        .filter((event) => event['class_uid'] === 4001);
    const code = (event: Record<string, unknown>) => (event['metadata'] as { event_code: string }).event_code;
    const host = (event: Record<string, unknown>) =>
      (event['dst_endpoint'] as { hostname?: string }).hostname;
    await until('the allow and deny events in the store', async () => {
      const events = await egressEvents();
      return (
        events.some((event) => code(event) === 'egress.allowed') &&
        events.some((event) => code(event) === 'egress.denied')
      );
    });
    const events = await egressEvents();
    for (const event of events) assertValidOcsf(event);
    const allowedEvent = events.find((event) => code(event) === 'egress.allowed');
    const deniedEvent = events.find((event) => code(event) === 'egress.denied');
    assert.ok(allowedEvent && deniedEvent, 'both events stored');
    assert.equal((allowedEvent['dst_endpoint'] as { svc_name?: string }).svc_name, 'local-api');
    assert.equal(host(deniedEvent), 'denied.example.test');
    assert.equal(deniedEvent['status_code'], 'no_matching_service');
  });

  it('SIGTERM stops the supervisor and its gateway: exit 0, the proxy port free', async () => {
    const exited = once(supervisor, 'exit');
    supervisor.kill('SIGTERM');
    const [code] = (await exited) as [number];
    assert.equal(code, 0, supervisorLog.slice(-2000));
    assert.equal(await listening(hostEgress.proxyPort), false);
    assert.equal(await listening(hostEgress.socksPort), false);
  });
});
