import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type DesiredState, requireValidRepository } from '../../../src/config/index.ts';
import { openStore } from '../../../src/controlplane/store/open-store.ts';
import type { Store } from '../../../src/controlplane/store/store.ts';
import {
  ed25519Pem,
  plannedRelease,
  type ReleaseReplica,
  startReleaseReplica,
  storeReleaseRows,
  supervisorFetchingFrom,
  until,
  writeReleaseKeys,
} from '../../support/cluster-releases.ts';
import { createDatabase, dropDatabase, useTestPostgres } from '../../support/postgres.ts';
import { EXAMPLES, tempDir } from '../../support/releases.ts';
import { runCli } from './run-cli.ts';

// `paddock policy rotate-root --database-url` against a cluster's store in a real PostgreSQL,
// beside two real replicas: canary's root is rotated to a new key (signed by the current key and
// the new one), replica B pulls it, and a real supervisor-side TUF client fetching from B's copy
// moves to root 2 and keeps its bundle (re-signed by the new key). Attacked: a rotation of
// stable (threshold 2) signed by one of its two keys, and one signed by a key the root does not
// list: both refused, nothing written.

describe('paddock policy rotate-root on a cluster store (real PostgreSQL)', () => {
  const temp = tempDir('paddock-cli-rotate-cluster-');
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

  const cli = (...args: string[]) =>
    runCli(['policy', 'rotate-root', ...args, '--database-url', url, '--release-keys', keysDir], temp.path);

  /** Every metadata row and bundle of the store, by hash: what "nothing was written" compares. */
  const storeRows = () => storeReleaseRows(admin);

  const planned = () => plannedRelease(configDir);

  const startReplica = async (name: string, campaign: boolean): Promise<ReleaseReplica> => {
    const replica = await startReleaseReplica({
      url,
      name,
      dataDir: join(temp.path, name),
      keysDir,
      state,
      store,
      configDir,
      campaign,
    });
    replicas.push(replica);
    return replica;
  };

  /** A supervisor (the real TUF client) following canary, fetching through replica B's endpoint. */
  const supervisorOnB = (stateDir: string) => {
    const { holder, updates, initialRoot } = supervisorFetchingFrom(b, stateDir);
    // What it trusts across restarts: trusted/root.json once a refresh changed its root, else the one it was given.
    const trustedRootVersion = () => {
      const file = join(stateDir, 'trusted', 'root.json');
      return existsSync(file)
        ? (JSON.parse(readFileSync(file, 'utf8')).signed.version as number)
        : (JSON.parse(Buffer.from(initialRoot).toString('utf8')).signed.version as number);
    };
    return { holder, updater: updates.updater, trustedRootVersion };
  };

  before(async () => {
    server = await useTestPostgres();
    url = await createDatabase(server.url, 'paddock_policy_rotate');
    store = await openStore({ url });
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    configDir = join(temp.path, 'desired-state');
    cpSync(EXAMPLES, configDir, { recursive: true });
    state = (await requireValidRepository(configDir)).state;
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

  it("rotates canary's root to a new key; replica B serves root 2 and a supervisor moves to it, keeping its bundle", async () => {
    await a.releases.release(await planned());
    await b.releases.sync();
    const supervisor = supervisorOnB(join(temp.path, 'supervisor'));
    assert.equal((await supervisor.updater.start()).result, 'applied');
    assert.equal(supervisor.trustedRootVersion(), 1);
    const bundle = supervisor.holder.current.ref.hash;

    const newKey = join(temp.path, 'canary.new-signer.pem');
    writeFileSync(newKey, ed25519Pem(), { mode: 0o600 });
    const rotated = await cli(
      '--channel',
      'canary',
      '--sign-with',
      join(keysDir, 'canary.signer-1.pem'),
      '--new-signer',
      newKey,
    );
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(
      rotated.stdout,
      'canary: root 2 published; release 2 re-signs the current bundles with the new keys\n',
    );
    const { rows } = await admin.query<{ path: string }>(
      "SELECT path FROM release_metadata WHERE channel = 'canary' AND path LIKE 'root/%' ORDER BY path",
    );
    assert.deepEqual(
      rows.map((row) => row.path),
      ['root/1.json', 'root/2.json'],
    );

    // The releases topic tells B; it pulls and chains root 2 to root 1 before taking it.
    await until('replica B to take root 2', async () => {
      await b.releases.sync();
      return b.releases.repository.status('canary').rootVersion === 2;
    });
    const updated = await supervisor.updater.update();
    assert.notEqual(updated.result, 'rejected', JSON.stringify(updated));
    assert.ok(existsSync(join(temp.path, 'supervisor', 'trusted', 'root.json')), 'the new root is stored');
    assert.equal(supervisor.trustedRootVersion(), 2, 'the supervisor walked the chain to root 2');
    assert.equal(supervisor.holder.current.ref.hash, bundle, 'the same bundle, re-signed by the new key');
    assert.equal(supervisor.holder.current.ref.release, 2);
    assert.equal(supervisor.holder.denying, false);
  });

  it('a rotation of stable signed by one of its two keys (below the threshold) is refused, nothing written', async () => {
    const before = await storeRows();
    const newKeys = [1, 2].map((n) => {
      const file = join(temp.path, `stable.new-${n}.pem`);
      writeFileSync(file, ed25519Pem(), { mode: 0o600 });
      return file;
    });
    const refused = await cli(
      '--channel',
      'stable',
      '--sign-with',
      join(keysDir, 'stable.signer-1.pem'),
      '--new-signer',
      newKeys[0] as string,
      '--new-signer',
      newKeys[1] as string,
    );
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /PDK_RELEASE_THRESHOLD: the new root \(by the current signers\): /);
    assert.deepEqual(await storeRows(), before, 'nothing was written');
  });

  it('a rotation signed by a key the root does not list is refused, nothing written', async () => {
    const before = await storeRows();
    const stranger = join(temp.path, 'stranger.pem');
    writeFileSync(stranger, ed25519Pem(), { mode: 0o600 });
    const refused = await cli('--channel', 'canary', '--sign-with', stranger, '--new-signer', stranger);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(
      refused.stderr,
      /PDK_RELEASE_UNTRUSTED_SIGNER: channel canary's root \(version 2\) does not trust the key/,
    );
    assert.deepEqual(await storeRows(), before, 'nothing was written');
  });
});
