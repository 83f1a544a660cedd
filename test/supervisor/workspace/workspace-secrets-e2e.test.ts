import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChannelServer, IdentityRegistry } from '../../../src/controlplane/channel/index.ts';
import { openStore, type Store } from '../../../src/controlplane/index.ts';
import { WorkspaceLifecycle } from '../../../src/controlplane/workspaces/index.ts';
import { LocalProvider, workspaceDirs } from '../../../src/providers/index.ts';
import { writeEncryptedFileSecretStore } from '../../../src/supervisor/index.ts';
import { collect } from '../../support/terminal-output.ts';
import { until } from '../../support/cluster-releases.ts';
import { startUpstream, type Upstream } from '../egress-fixtures.ts';

// Credential injection in a local workspace, end to end and all real, on the Linux sandbox
// path: the local provider is given a secret store (outside the data directory) and writes it
// into the supervisor's config; the supervisor opens it and hands it to every terminal's
// sandbox egress gateway. In a terminal (a login shell in a real Paddock sandbox, bubblewrap as
// root) curl sends the gateway's PADDOCK_CREDENTIAL_* placeholder to a loopback upstream the
// blueprint binds the credential to; the upstream receives the real secret. The secret never
// reaches the terminal, the control plane's audit store, or any file under the data directory
// (the spool, the supervisor's log). Needs root, like every sandbox test.

const EXAMPLES = new URL('../../../examples/platform/', import.meta.url).pathname;
const WS = 'ws-secrets-e2e';
const ADA = 'ada@example.com';
const CANARY = 'pdk-canary-ws-e2e-9a8b7c6d5e4f30211203f4e5d6c7b8a9';
const CONNECT_MS = 30_000;

const blueprintYaml = (port: number) => `apiVersion: paddock.dev/v1
kind: Blueprint
metadata: { name: secrets-e2e, version: 1.0.0, owner: dev@example.com, incidentContact: sec@example.com, reviewCadence: 90d }
spec:
  goal: Credential injection in a local workspace.
  services:
    - name: local-api
      hosts: ["127.0.0.1"]
      ports: [${port}]
      access: read-only
      credential: local-token
      cidrs: [127.0.0.1/32]
  dataScope: { read: [/workspace], write: [/workspace], deny: [] }
`;

/** Every file under `dir` whose bytes hold `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if (readFileSync(path).includes(needle)) found.push(path);
  }
  return found;
}

describe('workspace credential injection end to end (Linux sandbox path): local provider secret store, real supervisor and gateway', () => {
  let dataDir: string;
  let secretsDir: string;
  let upstream: Upstream;
  let store: Store;
  let channel: ChannelServer;
  let provider: LocalProvider;
  let lifecycle: WorkspaceLifecycle;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'paddock-ws-secrets-e2e-'));
    secretsDir = mkdtempSync(join(tmpdir(), 'paddock-ws-secrets-store-'));
    upstream = await startUpstream();
    const repo = join(dataDir, 'repo');
    mkdirSync(join(repo, 'blueprints'), { recursive: true });
    mkdirSync(join(repo, 'profiles'));
    copyFileSync(join(EXAMPLES, 'paddock.yaml'), join(repo, 'paddock.yaml'));
    copyFileSync(
      join(EXAMPLES, 'profiles', 'standard-local.yaml'),
      join(repo, 'profiles', 'standard-local.yaml'),
    );
    writeFileSync(join(repo, 'blueprints', 'secrets-e2e.yaml'), blueprintYaml(upstream.port));
    const file = join(secretsDir, 'secrets.json');
    writeFileSync(`${file}.key`, randomBytes(32), { mode: 0o600 });
    await writeEncryptedFileSecretStore({ file, keyFile: `${file}.key`, secrets: { 'local-token': CANARY } });

    store = await openStore({ url: `sqlite:${join(dataDir, 'controlplane.db')}` });
    await store.createUser({ id: ADA, displayName: 'Ada' });
    const identities = new IdentityRegistry({ file: join(dataDir, 'identities.json') });
    channel = await ChannelServer.start({
      registry: identities,
      listen: { path: join(dataDir, 'channel.sock') },
      auditStore: store,
    });
    provider = new LocalProvider({ dataDir, secrets: { file, keyFile: `${file}.key` } });
    lifecycle = new WorkspaceLifecycle({
      store,
      channel,
      identities,
      providers: new Map([['local', provider]]),
      configDir: repo,
      blueprintFor: () => 'secrets-e2e',
      audit: async () => {},
    });
    await lifecycle.create(ADA, { id: WS, owner: ADA, profile: 'standard-local' });
    await lifecycle.start(ADA, WS);
    await channel.waitForConnection(WS, CONNECT_MS).catch((error: Error) => {
      const log = readFileSync(workspaceDirs(dataDir, WS).logFile, 'utf8');
      throw new Error(`${error.message}\nsupervisor: ${log.slice(-3000)}`);
    });
  });
  after(async () => {
    await provider?.close();
    await channel?.close();
    await store?.close();
    await upstream?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
  });

  it('the supervisor config names the store; the sandbox holds only a placeholder; the upstream receives the secret', async () => {
    const config = JSON.parse(readFileSync(workspaceDirs(dataDir, WS).configFile, 'utf8'));
    assert.deepEqual(config.secrets, {
      file: join(secretsDir, 'secrets.json'),
      keyFile: join(secretsDir, 'secrets.json.key'),
    });

    const terminal = await channel.target(WS).open({
      cols: 200,
      rows: 24,
      mode: 'shell',
      userId: ADA,
      attachId: 'attach-secrets',
    });
    const output = collect(terminal);
    terminal.write('echo "ph=[$PADDOCK_CREDENTIAL_LOCAL_TOKEN]"\n');
    const [, placeholder] = (await output.until(/ph=\[(pdk_ph_local_token_[0-9a-f]{32})\]/, 30_000)) as [
      string,
      string,
    ];
    // NO_PROXY names 127.0.0.1 (the sandbox's own loopback); --noproxy '' sends it to the gateway.
    terminal.write(
      `curl -sS --max-time 20 --noproxy '' -H "Authorization: Bearer $PADDOCK_CREDENTIAL_LOCAL_TOKEN" http://127.0.0.1:${upstream.port}/quiet/ws-secrets; echo; echo "done-$((40+2))"\n`,
    );
    await output.until(/done-42/, 30_000);
    terminal.write('exit\n');
    await output.exit;

    const request = upstream.requests.find((each) => each.url === '/quiet/ws-secrets');
    assert.ok(request, `the upstream was reached; terminal: ${output.text.slice(-1500)}`);
    assert.equal(request.headers.authorization, `Bearer ${CANARY}`);
    assert.ok(!output.text.includes(CANARY), 'the secret never reaches the terminal');
    assert.ok(!upstream.requests.some((each) => JSON.stringify(each.headers).includes(placeholder)));
  });

  it("the gateway's events reach the control plane's store; no event, spool, log or other file holds the secret", async () => {
    const events = async () =>
      (await store.readAuditEvents({ source: WS, limit: 5000 })).map(
        (record) => record.event as Record<string, unknown>,
      );
    const code = (event: Record<string, unknown>) => (event['metadata'] as { event_code: string }).event_code;
    await until('the allowed egress event in the store', async () =>
      (await events()).some(
        (event) =>
          code(event) === 'egress.allowed' &&
          (event['dst_endpoint'] as { svc_name?: string } | undefined)?.svc_name === 'local-api',
      ),
    );
    assert.ok(!JSON.stringify(await events()).includes(CANARY), 'no stored event holds the secret');
    // Stop the supervisor so its spool and log are complete, then look at every byte left behind.
    await lifecycle.stop(ADA, WS);
    assert.deepEqual(filesHolding(dataDir, CANARY), []);
    assert.ok(readFileSync(workspaceDirs(dataDir, WS).logFile, 'utf8').length > 0, 'the supervisor logged');
  });
});
