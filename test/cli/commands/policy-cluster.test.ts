import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type DesiredState, requireValidRepository } from '../../../src/config/index.ts';
import { ClusterBus, editStoreReleases } from '../../../src/controlplane/cluster/index.ts';
import { fileSigner } from '../../../src/controlplane/releases/index.ts';
import { openStore } from '../../../src/controlplane/store/open-store.ts';
import type { Store } from '../../../src/controlplane/store/store.ts';
import { isPaddockError } from '../../../src/core/errors.ts';
import {
  ed25519Pem,
  plannedRelease,
  type ReleaseReplica,
  type ReleaseReplicaOptions,
  startReleaseReplica,
  storeReleaseRows,
  supervisorFetchingFrom,
  until,
  writeReleaseKeys,
} from '../../support/cluster-releases.ts';
import { createDatabase, dropDatabase, useTestPostgres } from '../../support/postgres.ts';
import { EXAMPLES, tempDir } from '../../support/releases.ts';
import { runCli } from './run-cli.ts';

// `paddock policy promote | cosign | status --database-url` against a cluster's store in a real
// PostgreSQL, beside two real replicas (openClusterReleases, as in
// test/controlplane/cluster/cluster-releases.test.ts): the leader releases to canary, an operator
// promotes into stable (threshold 2) with one key and co-signs with the second, replica B pulls it
// and a real supervisor-side TUF client applies it from B's copy. Attacked: a co-signature by a
// key the root does not list, and a write of the leader landing between the command's read and
// its write back (both refused, nothing written).

describe('paddock policy promote, cosign and status on a cluster store (real PostgreSQL)', () => {
  const temp = tempDir('paddock-cli-policy-cluster-');
  let server: Awaited<ReturnType<typeof useTestPostgres>>;
  let url: string;
  let store: Store;
  let admin: pg.Client;
  let configDir: string;
  let keysDir: string;
  let state: DesiredState;
  const replicas: ReleaseReplica[] = [];
  let a: ReleaseReplica;
  let b: ReleaseReplica;

  const cli = (...args: string[]) => runCli(['policy', ...args], temp.path);
  /** The store and the online keys, as an operator at a replica (`kubectl exec`) passes them. */
  const storeArgs = () => ['--database-url', url, '--release-keys', keysDir];

  const planned = () => plannedRelease(configDir);

  /** Changes a blueprint so the leader's next release is a new one. */
  const editBlueprint = (extra: string) => {
    const file = join(configDir, 'blueprints', 'code-review.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"npm test"', `"npm test", "${extra}"`));
  };

  /** Every metadata row and bundle of the store, by hash: what "nothing was written" compares. */
  const storeRows = () => storeReleaseRows(admin);

  const startReplica = async (
    name: string,
    campaign: boolean,
    options: Pick<ReleaseReplicaOptions, 'pool' | 'leaderTerm'> = {},
  ): Promise<ReleaseReplica> => {
    const replica = await startReleaseReplica({
      url,
      name,
      dataDir: join(temp.path, name),
      keysDir,
      state,
      store,
      configDir,
      campaign,
      ...options,
    });
    replicas.push(replica);
    return replica;
  };

  before(async () => {
    server = await useTestPostgres();
    url = await createDatabase(server.url, 'paddock_policy_cluster');
    store = await openStore({ url });
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    configDir = join(temp.path, 'desired-state');
    cpSync(EXAMPLES, configDir, { recursive: true });
    state = (await requireValidRepository(configDir)).state;
    assert.equal(
      state.platform?.value.spec.releases.channels.find((channel) => channel.name === 'stable')?.threshold,
      2,
    );
    keysDir = join(temp.path, 'release-keys');
    writeReleaseKeys(keysDir, state.platform?.value.spec.releases.channels ?? []);
    a = await startReplica('replica-a', true);
    await until('replica-a to lead', () => a.election.isLeader);
    b = await startReplica('replica-b', false);
  });

  after(async () => {
    for (const replica of replicas.splice(0).reverse()) await replica.stop().catch(() => undefined);
    await admin?.end();
    await store?.close();
    if (url) await dropDatabase(url);
    await server?.release();
    temp.cleanup();
  });

  it('promotes canary into stable with one key (pending), co-signs with the second; replica B serves it and a supervisor applies it', async () => {
    await a.releases.release(await planned());
    assert.equal(a.releases.repository.status('canary').targetsVersion, 1);

    const pending = await cli(
      'promote',
      '--to',
      'stable',
      '--sign-with',
      join(keysDir, 'stable.signer-1.pem'),
      ...storeArgs(),
    );
    assert.equal(pending.code, 0, pending.stderr);
    assert.equal(
      pending.stdout,
      'stable: release 1 waits for signatures (1 of 2); another signer runs `paddock policy cosign --channel stable --sign-with KEYFILE`\n',
    );
    const { rows } = await admin.query(
      "SELECT 1 FROM release_metadata WHERE channel = 'stable' AND path = 'pending.targets.json'",
    );
    assert.equal(rows.length, 1, 'the pending release is in the store');
    await until('replica B to see it pending', () => b.releases.repository.status('stable').pending !== null);
    assert.equal(b.releases.repository.status('stable').targetsVersion, 0, 'nothing published yet');

    const cosigned = await cli(
      'cosign',
      '--channel',
      'stable',
      '--sign-with',
      join(keysDir, 'stable.signer-2.pem'),
      ...storeArgs(),
    );
    assert.equal(cosigned.code, 0, cosigned.stderr);
    assert.match(cosigned.stdout, /^stable: published release 1\n {2}code-review /);

    // The notice on the releases topic makes B pull and tell its supervisors.
    await until("replica B's notice for stable", () => b.notified.some(([channel]) => channel === 'stable'));
    const status = b.releases.repository.status('stable');
    assert.equal(status.targetsVersion, 1);
    assert.equal(status.pending, null);
    assert.deepEqual(
      status.targets.map((target) => target.sha256),
      a.releases.repository.status('canary').targets.map((target) => target.sha256),
      'the same bundle hashes as canary',
    );

    // A supervisor following stable (the real TUF client) fetches through B's endpoint, verifies, applies.
    const { holder, updates } = supervisorFetchingFrom(b, join(temp.path, 'supervisor-stable'), 'stable');
    const outcome = await updates.updater.start();
    assert.equal(outcome.result, 'applied');
    assert.equal(holder.denying, false);
    assert.equal(
      holder.current.ref.hash,
      status.targets.find((target) => target.name === 'code-review')?.sha256,
    );
    assert.equal(holder.current.ref.release, 1);

    // status reads the store: the flag, or PADDOCK_DATABASE_URL.
    const shown = await cli('status', '--database-url', url);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^channel canary: release 1 \(threshold 1, root 1, timestamp expires .+\)$/m);
    assert.match(shown.stdout, /^channel stable: release 1 \(threshold 2, root 1, timestamp expires .+\)$/m);
    assert.match(shown.stdout, /^ {2}code-review +code-review:[0-9a-f]{16} /m);
    const json = await runCli(['policy', 'status', '--json'], temp.path, { PADDOCK_DATABASE_URL: url });
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.deepEqual(
      parsed.channels.map((channel: { channel: string; targetsVersion: number }) => [
        channel.channel,
        channel.targetsVersion,
      ]),
      [
        ['canary', 1],
        ['stable', 1],
      ],
    );
  });

  it('refuses --data-dir with --database-url, a non-PostgreSQL URL, and a store command without --sign-with', async () => {
    const both = await cli('status', '--data-dir', join(temp.path, 'data'), '--database-url', url);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /PDK_CLI_USAGE/);
    const sqlite = await cli('status', '--database-url', 'sqlite:///tmp/x.db');
    assert.equal(sqlite.code, 2);
    assert.match(sqlite.stderr, /PDK_CLI_USAGE/);
    const unsigned = await cli('promote', ...storeArgs());
    assert.equal(unsigned.code, 2);
    assert.match(unsigned.stderr, /PDK_CLI_USAGE/);
  });

  it('a co-signature by a key the channel root does not list is refused; nothing is written', async () => {
    editBlueprint('npm ci');
    await a.releases.release(await planned());
    assert.equal(a.releases.repository.status('canary').targetsVersion, 2);
    const pending = await cli('promote', '--sign-with', join(keysDir, 'stable.signer-1.pem'), ...storeArgs());
    assert.equal(pending.code, 0, pending.stderr);
    assert.match(pending.stdout, /^stable: release 2 waits for signatures \(1 of 2\)/);

    const attackerKey = join(temp.path, 'attacker.pem');
    writeFileSync(attackerKey, ed25519Pem(), { mode: 0o600 });
    const before = await storeRows();
    const refused = await cli('cosign', '--sign-with', attackerKey, ...storeArgs());
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /PDK_RELEASE_UNTRUSTED_SIGNER/);
    // The canary signer is a real key, but not one of stable's: refused as well.
    const otherChannel = await cli(
      'cosign',
      '--sign-with',
      join(keysDir, 'canary.signer-1.pem'),
      ...storeArgs(),
    );
    assert.equal(otherChannel.code, 1);
    assert.match(otherChannel.stderr, /PDK_RELEASE_UNTRUSTED_SIGNER/);
    assert.deepEqual(await storeRows(), before, 'nothing was written');
    assert.deepEqual(b.releases.repository.status('stable').targetsVersion, 1);
  });

  it("a leader's write between the read and the write back is a conflict: nothing of the co-signature is written, and a retry publishes", async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const bus = new ClusterBus({ url, replicaId: 'operator' });
    const signers = [fileSigner(join(keysDir, 'stable.signer-2.pem'))];
    let afterLeader: Awaited<ReturnType<typeof storeRows>> | undefined;
    try {
      await assert.rejects(
        editStoreReleases(
          {
            pool,
            bus,
            onlineKeysDir: keysDir,
            channel: 'stable',
            signers,
            beforeWrite: async () => {
              // The leader releases to canary while the co-signature is being made.
              editBlueprint('npm run lint');
              await a.releases.release(await planned());
              afterLeader = await storeRows();
            },
          },
          (repository) => repository.cosign({ channel: 'stable', signers }),
        ),
        (error: unknown) => {
          assert.ok(isPaddockError(error));
          assert.equal(error.code, 'PDK_RELEASE_CONFLICT');
          assert.match(error.message, /canary\//);
          return true;
        },
      );
      assert.ok(afterLeader);
      assert.deepEqual(await storeRows(), afterLeader, "only the leader's release was written");
      const pendingRow = await admin.query<{ content: Buffer }>(
        "SELECT content FROM release_metadata WHERE channel = 'stable' AND path = 'pending.targets.json'",
      );
      assert.equal(
        Object.keys(JSON.parse(pendingRow.rows[0]!.content.toString('utf8')).signatures).length,
        1,
      );
      assert.equal(a.releases.repository.status('canary').targetsVersion, 3);

      // The operator runs it again: published (stable release 2, canary's release 2 as promoted).
      const retried = await cli(
        'cosign',
        '--sign-with',
        join(keysDir, 'stable.signer-2.pem'),
        ...storeArgs(),
      );
      assert.equal(retried.code, 0, retried.stderr);
      assert.match(retried.stdout, /^stable: published release 2\n/);
      await until(
        'replica B to serve stable release 2',
        () => b.releases.repository.status('stable').targetsVersion === 2,
      );
    } finally {
      await bus.close();
      await pool.end();
    }
  });

  it('a co-signature of a pending release whose rows were swapped in the database does not verify: refused, nothing written', async () => {
    // A promotion waiting for a second key...
    editBlueprint('npm audit');
    await a.releases.release(await planned());
    const pending = await cli('promote', '--sign-with', join(keysDir, 'stable.signer-1.pem'), ...storeArgs());
    assert.equal(pending.code, 0, pending.stderr);
    // ...while someone with database access replaces stable's current targets with forged ones.
    const { rows } = await admin.query<{ path: string; content: Buffer }>(
      "SELECT path, content FROM release_metadata WHERE channel = 'stable' AND path = '2.targets.json'",
    );
    const original = rows[0]!.content;
    const forged = JSON.parse(original.toString('utf8'));
    forged.signed.targets['code-review.json'].hashes.sha256 = '0'.repeat(64);
    const forgedBytes = Buffer.from(`${JSON.stringify(forged, null, 2)}\n`);
    await admin.query(
      "UPDATE release_metadata SET content = $1, sha256 = $2 WHERE channel = 'stable' AND path = '2.targets.json'",
      [forgedBytes, createHash('sha256').update(forgedBytes).digest('hex')],
    );
    try {
      const before = await storeRows();
      const refused = await cli(
        'cosign',
        '--sign-with',
        join(keysDir, 'stable.signer-2.pem'),
        ...storeArgs(),
      );
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /PDK_RELEASE_SIGNATURE/);
      assert.deepEqual(await storeRows(), before, 'nothing was signed on top of it');
    } finally {
      await admin.query(
        "UPDATE release_metadata SET content = $1, sha256 = $2 WHERE channel = 'stable' AND path = '2.targets.json'",
        [original, createHash('sha256').update(original).digest('hex')],
      );
    }
  });

  it('a publication signed with an online key the root does not trust does not verify: refused, nothing written', async () => {
    // The pending promotion of the test before is still waiting for its second key.
    const foreign = join(temp.path, 'foreign-online');
    mkdirSync(foreign, { mode: 0o700 });
    writeFileSync(join(foreign, 'stable.online.pem'), ed25519Pem(), { mode: 0o600 });
    const before = await storeRows();
    const refused = await cli(
      'cosign',
      '--sign-with',
      join(keysDir, 'stable.signer-2.pem'),
      '--database-url',
      url,
      '--release-keys',
      foreign,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /PDK_RELEASE_SIGNATURE/);
    assert.deepEqual(await storeRows(), before, 'the timestamp it signed was never written');
    const published = await cli(
      'cosign',
      '--sign-with',
      join(keysDir, 'stable.signer-2.pem'),
      ...storeArgs(),
    );
    assert.equal(published.code, 0, published.stderr);
    assert.match(published.stdout, /^stable: published release 3\n/);
  });

  it("the leader does not overwrite an operator's write stored between its pull and its write: conflict, the operator's release stays", async () => {
    // A replica writing with the leader's current term whose pool runs `onIndexRead` right after its
    // next read of the store's index: the operator's command lands between its pull and its write.
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    let onIndexRead: (() => Promise<void>) | undefined;
    const query = pool.query.bind(pool) as (text: string, values?: unknown[]) => Promise<pg.QueryResult>;
    Object.assign(pool, {
      query: async (text: string, values?: unknown[]) => {
        const result = await query(text, values);
        if (onIndexRead && text.startsWith('SELECT channel, path, sha256 FROM release_metadata')) {
          const hook = onIndexRead;
          onIndexRead = undefined;
          await hook();
        }
        return result;
      },
    });
    // Canary moves ahead of stable first, so promoting stable into canary is a change.
    editBlueprint('npm run build');
    await a.releases.release(await planned());
    const x = await startReplica('replica-x', false, { pool, leaderTerm: () => a.election.term });
    let afterOperator: Awaited<ReturnType<typeof storeRows>> | undefined;
    onIndexRead = async () => {
      // The operator promotes stable's release back into canary meanwhile.
      const promoted = await cli(
        'promote',
        '--from',
        'stable',
        '--to',
        'canary',
        '--sign-with',
        join(keysDir, 'canary.signer-1.pem'),
        ...storeArgs(),
      );
      assert.equal(promoted.code, 0, promoted.stderr);
      assert.match(promoted.stdout, /^canary: published release \d+\n/);
      afterOperator = await storeRows();
    };
    editBlueprint('npm run docs');
    await assert.rejects(x.releases.release(await planned()), (error: unknown) => {
      assert.ok(isPaddockError(error), String((error as Error).stack));
      assert.equal(error.code, 'PDK_RELEASE_CONFLICT');
      assert.match(error.message, /canary\//);
      return true;
    });
    assert.ok(afterOperator, 'the operator wrote in between');
    assert.deepEqual(await storeRows(), afterOperator, "the operator's release was not overwritten");
    // The leader's next release, on top of what the store holds, goes through.
    await a.releases.release(await planned());
    assert.notDeepEqual(await storeRows(), afterOperator);
  });
});
