import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DesiredState, requireValidRepository } from '../../../src/config/index.ts';
import { ChannelServer, IdentityRegistry } from '../../../src/controlplane/channel/index.ts';
import { openStore } from '../../../src/controlplane/store/open-store.ts';
import type { Store } from '../../../src/controlplane/store/store.ts';
import { writeIdentityFile } from '../../../src/core/channel/index.ts';
import { channelBundleUpdates, PolicyHolder } from '../../../src/supervisor/policy/index.ts';
import { ChannelClient } from '../../../src/supervisor/workspace/channel-client.ts';
import {
  plannedRelease,
  type ReleaseReplica,
  startReleaseReplica,
  until,
  writeReleaseKeys,
} from '../../support/cluster-releases.ts';
import { createDatabase, dropDatabase, useTestPostgres } from '../../support/postgres.ts';
import { EXAMPLES, tempDir } from '../../support/releases.ts';
import { runCli } from '../../cli/commands/run-cli.ts';

// Attestations on a cluster, against a real PostgreSQL: replica A leads and releases, a real
// supervisor (the TUF client over a real ChannelClient) is connected to replica B's
// ChannelServer, applies what B serves and attests to B; B stores the attestation in the shared
// store, so `paddock policy status --database-url` (the CLI entry) shows the workspace in sync,
// behind after a release it has not applied, and in sync again once it has. Attacked: a
// supervisor naming another workspace in its attestation (refused, nothing stored for it).

const WS = 'ws-cluster-attest';
const VICTIM = 'ws-someone-else';

describe('release attestations on a cluster (real PostgreSQL, two replicas, policy status --database-url)', () => {
  const temp = tempDir('paddock-cluster-attest-');
  let server: Awaited<ReturnType<typeof useTestPostgres>>;
  let url: string;
  let store: Store;
  let configDir: string;
  let keysDir: string;
  let state: DesiredState;
  let channelServer: ChannelServer | undefined;
  const registry = new IdentityRegistry();
  const replicas: ReleaseReplica[] = [];
  let a: ReleaseReplica;
  let b: ReleaseReplica;

  const status = async () => {
    const result = await runCli(['policy', 'status', '--database-url', url, '--json'], temp.path);
    return { code: result.code, stderr: result.stderr, ...JSON.parse(result.stdout || '{}') };
  };
  const ours = async () => (await store.releaseAttestations()).find((record) => record.workspaceId === WS);

  const planned = () => plannedRelease(configDir);

  /** Each replica its own store connection, as each pod opens its own. */
  const startReplica = async (
    name: string,
    campaign: boolean,
    notify?: (channel: string, version: number) => void,
  ): Promise<ReleaseReplica> => {
    const replica = await startReleaseReplica({
      url,
      name,
      dataDir: join(temp.path, name),
      keysDir,
      state,
      store: 'own',
      configDir,
      campaign,
      ...(notify ? { notify } : {}),
    });
    replicas.push(replica);
    return replica;
  };

  /** A supervisor following canary/code-review, connected to replica B's channel server. */
  const supervisor = (stateDir: string) => {
    const holder = new PolicyHolder();
    const closed = { count: 0 };
    let client: ChannelClient | undefined;
    const updates = channelBundleUpdates({
      channel: 'canary',
      blueprint: 'code-review',
      stateDir,
      initialRoot: b.releases.repository.trustedRoot('canary'),
      holder,
      send: (message) => client?.sendRelease(message) ?? false,
    });
    client = new ChannelClient({
      url: channelServer!.url,
      workspaceId: WS,
      identityFile: join(temp.path, 'identity.json'),
      openTerminal: async () => {
        throw new Error('no terminals in this test');
      },
      onRelease: (message) => updates.onRelease(message),
      onConnected: () => updates.onConnected(),
      onDisconnected: () => {
        closed.count++;
        updates.onDisconnected();
      },
    });
    client.start();
    return { holder, client, closed };
  };

  before(async () => {
    server = await useTestPostgres();
    url = await createDatabase(server.url, 'paddock_release_attestations');
    store = await openStore({ url }); // runs the migrations (0008-release-attestations)
    configDir = join(temp.path, 'desired-state');
    cpSync(EXAMPLES, configDir, { recursive: true });
    state = (await requireValidRepository(configDir)).state;
    keysDir = join(temp.path, 'release-keys');
    writeReleaseKeys(keysDir, state.platform?.value.spec.releases.channels ?? []);
    a = await startReplica('replica-a', true);
    await until('replica-a to lead', () => a.election.isLeader);
    b = await startReplica('replica-b', false, (channel, version) =>
      channelServer?.notifyRelease(channel, version),
    );
    channelServer = await ChannelServer.start({ registry, releases: b.releases.releases.endpoint });
    writeIdentityFile(join(temp.path, 'identity.json'), await registry.issue(WS));
  });

  after(async () => {
    for (const replica of replicas.splice(0).reverse()) await replica.stop().catch(() => undefined);
    await channelServer?.close();
    await store?.close();
    if (url) await dropDatabase(url);
    await server?.release();
    temp.cleanup();
  });

  it('a supervisor attests to replica B; policy status --database-url shows it in sync, behind after a release it has not applied, in sync once applied', async () => {
    const first = supervisor(join(temp.path, 'supervisor'));
    try {
      await channelServer!.waitForConnection(WS, 10_000);
      await a.releases.release(await planned());
      await until('the release to apply', () => !first.holder.denying);
      await until('the attestation in the store', async () => (await ours())?.attestation.release === 1);

      const inSync = await status();
      assert.equal(inSync.code, 0, inSync.stderr);
      assert.equal(inSync.workspaces.length, 1);
      assert.equal(inSync.workspaces[0].workspaceId, WS);
      assert.equal(inSync.workspaces[0].drift, 'in-sync');
      assert.equal(inSync.workspaces[0].current.release, 1);
      assert.equal(inSync.workspaces[0].attestation.bundle.hash, first.holder.current.ref.hash);
    } finally {
      first.client.stop();
    }

    // A release while the workspace is disconnected: the store still holds release 1, so it is behind.
    const file = join(configDir, 'blueprints', 'code-review.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"npm test"', '"npm test", "npm ci"'));
    await a.releases.release(await planned());
    await until('replica B to pull release 2', async () => {
      await b.releases.sync();
      return b.releases.repository.status('canary').targetsVersion === 2;
    });
    const behind = await status();
    assert.equal(behind.code, 1, 'some workspace drifts: exit 1');
    assert.equal(behind.workspaces[0].drift, 'behind');
    assert.equal(behind.workspaces[0].attestation.release, 1);
    assert.equal(behind.workspaces[0].current.release, 2);
    const text = await runCli(['policy', 'status', '--database-url', url], temp.path);
    assert.match(
      text.stdout,
      new RegExp(
        `^ {2}${WS} +canary/code-review {2}applied code-review:[0-9a-f]{16} \\(release 1\\) {2}current code-review:[0-9a-f]{16} \\(release 2\\) {2}BEHIND$`,
        'm',
      ),
    );

    // It reconnects (to B), fetches release 2, applies and attests: in sync again.
    const again = supervisor(join(temp.path, 'supervisor'));
    try {
      await until('release 2 to apply', () => again.holder.current.ref.release === 2);
      await until('the new attestation in the store', async () => (await ours())?.attestation.release === 2);
      const synced = await status();
      assert.equal(synced.code, 0, synced.stderr);
      assert.equal(synced.workspaces[0].drift, 'in-sync');
      assert.equal(synced.workspaces[0].current.release, 2);
    } finally {
      again.client.stop();
    }
  });

  it('a supervisor cannot attest for another workspace: the message is refused and nothing is stored for it', async () => {
    const before = await ours();
    assert.ok(before, 'the workspace attested in the test before');
    const attacker = supervisor(join(temp.path, 'supervisor-attacker'));
    try {
      await channelServer!.waitForConnection(WS, 10_000);
      await until('the attacker to connect', () => attacker.client.connected);
      const forged = {
        channel: 'canary',
        blueprint: 'code-review',
        state: 'applied',
        bundle: before.attestation.bundle,
        release: before.attestation.release,
        commit: before.attestation.commit,
      };
      // The workspace named inside the attestation, and beside it: the protocol has no such field.
      assert.equal(
        attacker.client.sendRelease({
          t: 'bundle_attest',
          attestation: { ...forged, workspaceId: VICTIM },
        } as never),
        true,
      );
      await until('the connection to be closed for the protocol error', () => attacker.closed.count === 1);
      await until('the attacker to reconnect', () => attacker.client.connected);
      attacker.client.sendRelease({ t: 'bundle_attest', workspaceId: VICTIM, attestation: forged } as never);
      await until('the connection to be closed again', () => attacker.closed.count === 2);
      const records = await store.releaseAttestations();
      assert.deepEqual(
        records.map((record) => record.workspaceId),
        [WS],
        'nothing is stored under the other workspace',
      );
      const status = await runCli(['policy', 'status', '--database-url', url, '--json'], temp.path);
      assert.ok(
        !JSON.parse(status.stdout).workspaces.some(
          (workspace: { workspaceId: string }) => workspace.workspaceId === VICTIM,
        ),
      );
    } finally {
      attacker.client.stop();
    }
  });
});
