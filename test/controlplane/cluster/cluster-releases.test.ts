import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type DesiredState, requireValidRepository } from '../../../src/config/index.ts';
import { ChannelServer, IdentityRegistry } from '../../../src/controlplane/channel/index.ts';
import { openClusterReleases } from '../../../src/controlplane/cluster/index.ts';
import { readReleaseChannels } from '../../../src/controlplane/cluster/release-files.ts';
import { ReleaseMirror } from '../../../src/controlplane/cluster/release-mirror.ts';
import { Metadata, MetadataKind, Root } from '@tufjs/models';
import { keySigner } from '../../../src/controlplane/releases/index.ts';
import { metadataBytes, readMetadata, signMetadata } from '../../../src/controlplane/releases/metadata.ts';
import { openStore } from '../../../src/controlplane/store/open-store.ts';
import type { Store } from '../../../src/controlplane/store/store.ts';
import { writeIdentityFile } from '../../../src/core/channel/index.ts';
import { isPaddockError } from '../../../src/core/errors.ts';
import { channelBundleUpdates, PolicyHolder } from '../../../src/supervisor/policy/index.ts';
import { ChannelClient } from '../../../src/supervisor/workspace/channel-client.ts';
import {
  plannedRelease,
  RELEASE_ELECTION,
  type ReleaseReplica,
  type ReleaseReplicaOptions,
  startReleaseReplica,
  supervisorFetchingFrom,
  until,
  writeReleaseKeys,
} from '../../support/cluster-releases.ts';
import { createDatabase, dropDatabase, useTestPostgres } from '../../support/postgres.ts';
import { EXAMPLES, tempDir } from '../../support/releases.ts';

// Signed policy releases on a cluster, against a real PostgreSQL: two replicas (each its own
// pool, bus, election and scratch directory, as two pods), the leader releases, and a real
// supervisor (the TUF client, BundleUpdater, over a real ChannelClient connected to replica B's
// ChannelServer) verifies and applies what B serves from the store. Attacked: a standby and a
// deposed leader writing a release (fenced), rows tampered in the database (refused by the
// supervisor's verification), a row naming a path outside the repository, missing keys.

const WS = 'ws-cluster-release';

describe('policy releases on a cluster (real PostgreSQL, two replicas)', () => {
  const temp = tempDir('paddock-cluster-releases-');
  let server: Awaited<ReturnType<typeof useTestPostgres>>;
  let url: string;
  let store: Store;
  let admin: pg.Client;
  let configDir: string;
  let keysDir: string;
  let state: DesiredState;
  let channelServer: ChannelServer | undefined;
  const registry = new IdentityRegistry();
  const replicas: ReleaseReplica[] = [];
  let a: ReleaseReplica;
  let b: ReleaseReplica;

  const planned = () => plannedRelease(configDir);

  const startReplica = async (
    name: string,
    options: Pick<ReleaseReplicaOptions, 'notify' | 'leaderTerm' | 'campaign'> = {},
  ): Promise<ReleaseReplica> => {
    const replica = await startReleaseReplica({
      url,
      name,
      dataDir: join(temp.path, name),
      keysDir,
      state,
      store,
      configDir,
      ...options,
    });
    replicas.push(replica);
    return replica;
  };

  const canaryVersion = async () =>
    (
      await admin.query<{ n: string }>(
        "SELECT count(*) AS n FROM release_metadata WHERE channel = 'canary' AND path LIKE '%.targets.json'",
      )
    ).rows[0]?.n;

  before(async () => {
    server = await useTestPostgres();
    url = await createDatabase(server.url, 'paddock_releases');
    store = await openStore({ url }); // runs the migrations (0005-policy-releases)
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    configDir = join(temp.path, 'desired-state');
    cpSync(EXAMPLES, configDir, { recursive: true });
    // Workspaces of the kubevirt profile follow stable (threshold 2 in the example).
    const profile = join(configDir, 'profiles', 'large-kubevirt.yaml');
    writeFileSync(
      profile,
      readFileSync(profile, 'utf8').replace(
        '  provider: kubevirt\n',
        '  provider: kubevirt\n  releaseChannel: stable\n',
      ),
    );
    state = (await requireValidRepository(configDir)).state;
    assert.equal(state.profiles.get('large-kubevirt')?.value.spec.releaseChannel, 'stable');
    keysDir = join(temp.path, 'release-keys');
    writeReleaseKeys(keysDir, state.platform?.value.spec.releases.channels ?? []);
    a = await startReplica('replica-a');
    await until('replica-a to lead', () => a.election.isLeader);
    b = await startReplica('replica-b', {
      notify: (channel, version) => channelServer?.notifyRelease(channel, version),
    });
    // Replica B's supervisor channel, serving B's copy (ChannelServer option `releases`, as wireWorkspaces passes it).
    channelServer = await ChannelServer.start({ registry, releases: b.releases.releases.endpoint });
  });

  after(async () => {
    for (const replica of replicas.splice(0).reverse()) await replica.stop().catch(() => undefined);
    await channelServer?.close();
    await admin?.end();
    await store?.close();
    if (url) await dropDatabase(url);
    await server?.release();
    temp.cleanup();
  });

  it('every replica hands new workspaces the same root: one per channel, in the store', async () => {
    for (const channel of ['canary', 'stable'])
      assert.deepEqual(
        b.releases.repository.trustedRoot(channel),
        a.releases.repository.trustedRoot(channel),
        channel,
      );
    const { rows } = await admin.query<{ channel: string }>(
      "SELECT channel FROM release_metadata WHERE path LIKE 'root/%' ORDER BY channel",
    );
    assert.deepEqual(
      rows.map((row) => row.channel),
      ['canary', 'stable'],
    );
    const anchor = b.releases.releases.followFor(state, {
      profile: 'no-such-profile',
    } as never);
    assert.deepEqual(readFileSync(anchor.rootFile), a.releases.repository.trustedRoot('canary'));
  });

  it("the leader releases; a supervisor connected to replica B is told, fetches from B's copy, verifies and applies", async () => {
    writeIdentityFile(join(temp.path, 'identity.json'), await registry.issue(WS));
    const holder = new PolicyHolder();
    let client: ChannelClient | undefined;
    const updates = channelBundleUpdates({
      channel: 'canary',
      blueprint: 'code-review',
      stateDir: join(temp.path, 'supervisor-b'),
      initialRoot: b.releases.repository.trustedRoot('canary'),
      holder,
      send: (message) => client?.sendRelease(message) ?? false,
    });
    const notices: number[] = [];
    client = new ChannelClient({
      url: channelServer!.url,
      workspaceId: WS,
      identityFile: join(temp.path, 'identity.json'),
      openTerminal: async () => {
        throw new Error('no terminals in this test');
      },
      onRelease: (message) => {
        if (message.t === 'release_notify') notices.push(message.version);
        updates.onRelease(message);
      },
      onConnected: () => updates.onConnected(),
      onDisconnected: () => updates.onDisconnected(),
    });
    try {
      client.start();
      await channelServer!.waitForConnection(WS, 10_000);
      await until('the supervisor to start', () => client?.connected);
      assert.equal(holder.denying, true, 'nothing released yet: deny-all');

      const released = await a.releases.release(await planned());
      assert.ok(released.some((bundle) => bundle.blueprint === 'code-review' && bundle.channel === 'canary'));
      assert.equal(await canaryVersion(), '1', 'the release is in the store');
      // B hears of it on the bus, pulls, and tells the supervisor connected to it.
      await until("replica B's notice", () => b.notified.some(([channel]) => channel === 'canary'));
      await until('the notice on the channel', () => notices.length > 0);
      await until('the release to apply', () => !holder.denying);
      const target = b.releases.repository.status('canary').targets.find((t) => t.name === 'code-review')!;
      assert.equal(holder.current.ref.hash, target.sha256);
      assert.equal(holder.current.ref.release, 1);
      assert.deepEqual(a.releases.repository.status('canary'), b.releases.repository.status('canary'));
    } finally {
      client.stop();
    }
  });

  it('the leader seeds a channel a workspace follows from the first one; a threshold of 2 stays pending, stored', async () => {
    await store.createUser({ id: 'kim@example.com', displayName: 'Kim' });
    await store.createWorkspace({
      id: 'ws-stable',
      owner: 'kim@example.com',
      profile: 'large-kubevirt',
      provider: 'kubevirt',
      state: 'running',
    });
    await b.releases.sync(); // a standby does not seed
    assert.equal(b.releases.repository.status('stable').pending, null);
    await a.releases.sync();
    assert.deepEqual(a.releases.repository.status('stable').pending, {
      version: 1,
      signatures: 1,
      needed: 2,
    });
    const { rows } = await admin.query(
      "SELECT path FROM release_metadata WHERE channel = 'stable' AND path = 'pending.targets.json'",
    );
    assert.equal(rows.length, 1, 'the pending release is in the store');
    await b.releases.sync();
    assert.deepEqual(b.releases.repository.status('stable').pending, {
      version: 1,
      signatures: 1,
      needed: 2,
    });
    assert.equal(b.releases.repository.status('stable').targetsVersion, 0);
  });

  it('a standby cannot write a release: refused, nothing stored, its copy back to the store', async () => {
    const before = await canaryVersion();
    const file = join(configDir, 'blueprints', 'code-review.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"npm test"', '"npm test", "npm ci"'));
    await assert.rejects(b.releases.release(await planned()), (error: unknown) => {
      assert.ok(isPaddockError(error));
      assert.equal(error.code, 'PDK_CLUSTER_NOT_LEADER');
      return true;
    });
    assert.equal(await canaryVersion(), before);
    assert.equal(b.releases.repository.status('canary').targetsVersion, 1, "B's copy is the store's again");
  });

  it('a deposed leader still holding its old term cannot write (fenced by the term in the store)', async () => {
    const oldTerm = a.election.term!;
    // A replica that believes it still leads with A's term, as A would after losing its session unnoticed.
    const deposed = await startReplica('replica-deposed', { leaderTerm: () => oldTerm, campaign: false });
    await a.election.stop(); // A steps down; B takes over with a new term
    await until('replica B to lead', () => b.election.isLeader);
    assert.ok(b.election.term! > oldTerm);
    const before = await canaryVersion();
    await assert.rejects(deposed.releases.release(await planned()), (error: unknown) => {
      assert.ok(isPaddockError(error));
      assert.equal(error.code, 'PDK_CLUSTER_NOT_LEADER');
      return true;
    });
    assert.equal(await canaryVersion(), before, 'nothing was written');
    // The new leader releases the same change, and every replica follows.
    await b.releases.release(await planned());
    assert.equal(await canaryVersion(), '2');
    // Its bundles are in the store, even one a refused release had already written to B's disk.
    for (const target of b.releases.repository.status('canary').targets) {
      const { rowCount } = await admin.query('SELECT 1 FROM release_blobs WHERE sha256 = $1', [
        target.sha256,
      ]);
      assert.equal(rowCount, 1, target.name);
    }
    await a.releases.sync();
    assert.equal(a.releases.repository.status('canary').targetsVersion, 2);
  });

  it('a bundle row tampered in the database is not copied by a replica, and the supervisor gets nothing to apply: deny-all stays', async () => {
    const target = b.releases.repository.status('canary').targets.find((t) => t.name === 'code-review')!;
    const original = (
      await admin.query<{ content: Buffer }>('SELECT content FROM release_blobs WHERE sha256 = $1', [
        target.sha256,
      ])
    ).rows[0]!.content;
    const evil = Buffer.from(original.toString('utf8').replace('"code-review"', '"evil-review"'));
    assert.notDeepEqual(evil, original);
    await admin.query('UPDATE release_blobs SET content = $1 WHERE sha256 = $2', [evil, target.sha256]);
    try {
      // A replica started after the tampering copies what the store holds, but not bytes that
      // do not hash to their name (the supervisor's own check of them: release-attacks.test.ts).
      const fresh = await startReplica('replica-fresh-blob', { campaign: false });
      assert.equal(
        existsSync(join(temp.path, 'replica-fresh-blob', 'releases', 'blobs', target.sha256)),
        false,
      );
      const { holder, updates } = supervisorFetchingFrom(fresh, join(temp.path, 'supervisor-blob'));
      const outcome = await updates.updater.start();
      assert.equal(outcome.result, 'rejected');
      assert.ok(outcome.result === 'rejected');
      assert.match(outcome.error.code, /^PDK_RELEASE_(FETCH|MISMATCH)$/);
      assert.equal(holder.denying, true);
    } finally {
      await admin.query('UPDATE release_blobs SET content = $1 WHERE sha256 = $2', [original, target.sha256]);
    }
  });

  it('a metadata row rewritten in the database (targets pointing at another bundle) is refused', async () => {
    const { rows } = await admin.query<{ path: string; content: Buffer }>(
      "SELECT path, content FROM release_metadata WHERE channel = 'canary' AND path = '2.targets.json'",
    );
    const original = rows[0]!.content;
    const targets = JSON.parse(original.toString('utf8'));
    targets.signed.targets['code-review.json'].hashes.sha256 = '0'.repeat(64);
    const forged = Buffer.from(`${JSON.stringify(targets, null, 2)}\n`);
    await admin.query(
      "UPDATE release_metadata SET content = $1, sha256 = $2 WHERE channel = 'canary' AND path = '2.targets.json'",
      [forged, createHash('sha256').update(forged).digest('hex')],
    );
    // A path outside the repository, slipped in beside it, must never become a file.
    await admin.query(
      "INSERT INTO release_metadata (channel, path, sha256, content, updated_at) VALUES ('canary', '../../escaped.json', $1, 'x', 0)",
      ['f'.repeat(64)],
    );
    try {
      const fresh = await startReplica('replica-fresh-meta', { campaign: false });
      assert.equal(existsSync(join(temp.path, 'escaped.json')), false);
      assert.equal(existsSync(join(temp.path, 'replica-fresh-meta', 'escaped.json')), false);
      const { holder, updates } = supervisorFetchingFrom(fresh, join(temp.path, 'supervisor-meta'));
      const outcome = await updates.updater.start();
      assert.equal(outcome.result, 'rejected');
      assert.ok(outcome.result === 'rejected');
      assert.match(outcome.error.code, /^PDK_RELEASE_(MISMATCH|SIGNATURE)$/);
      assert.equal(holder.denying, true);
      // The leader signs nothing on top of it either (a release, a timestamp refresh, a promotion).
      const before = await canaryVersion();
      await assert.rejects(b.releases.release(await planned()), (error: unknown) => {
        assert.ok(isPaddockError(error));
        assert.equal(error.code, 'PDK_RELEASE_SIGNATURE');
        assert.match(error.message, /channel canary: the release metadata in the store does not verify/);
        return true;
      });
      assert.equal(await canaryVersion(), before);
    } finally {
      await admin.query("DELETE FROM release_metadata WHERE path = '../../escaped.json'");
      await admin.query(
        "UPDATE release_metadata SET content = $1, sha256 = $2 WHERE channel = 'canary' AND path = '2.targets.json'",
        [original, createHash('sha256').update(original).digest('hex')],
      );
    }
  });

  it('a channel name forged into the store (`../..`) never becomes a directory: not listed, and a mirror given it touches nothing outside its own', async () => {
    const forged = '../../escaped-channel';
    const dir = join(temp.path, 'mirror-of-forged', 'copy');
    // What the forged name would reach from `dir/channels/`: a file the pull must leave alone.
    const outside = join(dir, 'channels', forged);
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'timestamp.json'), "not the mirror's");
    await admin.query(
      "INSERT INTO release_metadata (channel, path, sha256, content, updated_at) VALUES ($1, 'root/1.json', $2, 'x', 0)",
      [forged, createHash('sha256').update('x').digest('hex')],
    );
    const pool = new pg.Pool({ connectionString: url });
    try {
      assert.deepEqual(await readReleaseChannels(pool), ['canary', 'stable']);
      const mirror = new ReleaseMirror({ pool, dir, channels: [forged], verifyRoot: () => {} });
      await mirror.pull();
      assert.equal(readFileSync(join(outside, 'timestamp.json'), 'utf8'), "not the mirror's");
    } finally {
      await pool.end();
      await admin.query('DELETE FROM release_metadata WHERE channel = $1', [forged]);
    }
  });

  it('a root forged into the store (signed by keys the chain does not trust) is never handed to a workspace', async () => {
    const root1 = readMetadata<Root>(
      MetadataKind.Root,
      b.releases.repository.readFile('canary', 'root/1.json')!,
    );
    const attacker = keySigner(generateKeyPairSync('ed25519').privateKey);
    const json = root1.signed.toJSON() as Record<string, unknown>;
    const id = attacker.key.keyID;
    const role = { keyids: [id], threshold: 1 };
    const forged = new Metadata(
      Root.fromJSON({
        ...json,
        version: 2,
        keys: { [id]: attacker.key.toJSON() },
        roles: { root: role, targets: role, snapshot: role, timestamp: role },
      } as never),
    );
    await signMetadata(forged, [attacker]);
    const bytes = Buffer.from(metadataBytes(forged));
    await admin.query(
      "INSERT INTO release_metadata (channel, path, sha256, content, updated_at) VALUES ('canary', 'root/2.json', $1, $2, 0)",
      [createHash('sha256').update(bytes).digest('hex'), bytes],
    );
    try {
      // A running replica does not take it: its workspaces keep getting root 1.
      await b.releases.sync();
      assert.deepEqual(
        b.releases.repository.trustedRoot('canary'),
        b.releases.repository.readFile('canary', 'root/1.json'),
      );
      assert.equal(b.releases.repository.status('canary').rootVersion, 1);
      const anchor = b.releases.releases.rootFileFor('canary');
      assert.equal(JSON.parse(readFileSync(anchor, 'utf8')).signed.version, 1);
      assert.equal(
        existsSync(join(temp.path, 'replica-b', 'releases', 'channels', 'canary', 'root', '2.json')),
        false,
      );
      // A replica starting now refuses to start at all (fail closed).
      await assert.rejects(startReplica('replica-fresh-root', { campaign: false }), (error: unknown) => {
        assert.ok(isPaddockError(error));
        assert.equal(error.code, 'PDK_RELEASE_SIGNATURE');
        assert.match(error.message, /canary\/root\/2\.json is not signed by the root before it/);
        return true;
      });
    } finally {
      await admin.query("DELETE FROM release_metadata WHERE channel = 'canary' AND path = 'root/2.json'");
    }
  });

  it('missing keys stop the start with PDK_SERVE_RELEASE_KEYS naming the files to create', async () => {
    const empty = join(temp.path, 'no-keys');
    mkdirSync(empty);
    await assert.rejects(
      openClusterReleases({
        pool: a.pool,
        bus: a.bus,
        election: RELEASE_ELECTION,
        dataDir: join(temp.path, 'replica-no-keys'),
        keysDir: empty,
        state,
        store,
        configDir,
      }),
      (error: unknown) => {
        assert.ok(isPaddockError(error));
        assert.equal(error.code, 'PDK_SERVE_RELEASE_KEYS');
        assert.match(error.message, /canary\.online\.pem/);
        assert.match(error.message, /stable\.signer-2\.pem/);
        return true;
      },
    );
    // As the kubelet mounts a Secret for the pod's fsGroup (0440): accepted; readable by others: refused.
    const { chmodSync, readdirSync } = await import('node:fs');
    for (const file of readdirSync(keysDir)) chmodSync(join(keysDir, file), 0o440);
    const mounted = await openClusterReleases({
      pool: a.pool,
      bus: a.bus,
      election: RELEASE_ELECTION,
      dataDir: join(temp.path, 'replica-group-read'),
      keysDir,
      state,
      store,
      configDir,
    });
    assert.deepEqual(mounted.repository.trustedRoot('canary'), a.releases.repository.trustedRoot('canary'));
    chmodSync(join(keysDir, 'canary.online.pem'), 0o444);
    await assert.rejects(
      openClusterReleases({
        pool: a.pool,
        bus: a.bus,
        election: RELEASE_ELECTION,
        dataDir: join(temp.path, 'replica-world-read'),
        keysDir,
        state,
        store,
        configDir,
      }),
      (error: unknown) =>
        isPaddockError(error) &&
        error.code === 'PDK_SERVE_RELEASE_KEYS' &&
        /canary\.online\.pem.*readable by others/.test(error.message),
    );
    // Keys that are not the ones the store's roots were made with are refused too.
    const other = join(temp.path, 'other-keys');
    writeReleaseKeys(other, state.platform?.value.spec.releases.channels ?? []);
    await assert.rejects(
      openClusterReleases({
        pool: a.pool,
        bus: a.bus,
        election: RELEASE_ELECTION,
        dataDir: join(temp.path, 'replica-other-keys'),
        keysDir: other,
        state,
        store,
        configDir,
      }),
      (error: unknown) => isPaddockError(error) && error.code === 'PDK_SERVE_RELEASE_KEYS',
    );
  });
});
