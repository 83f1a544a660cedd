import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Metadata, MetadataKind } from '@tufjs/models';
import {
  compileCommit,
  fileSigner,
  keySigner,
  type ReleaseRepository,
  releaseInput,
} from '../../../src/controlplane/releases/index.ts';
import { exampleRepository, releaseCommit, releaseRepository, tempDir } from '../../support/releases.ts';

// Issue 8, item 2: TUF metadata, channels canary and stable, promotion re-signs the same hash.

const json = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes));

describe('release repository', () => {
  const temp = tempDir('paddock-release-repo-');
  let source: { dir: string; commit: string };
  let repository: ReleaseRepository;
  before(async () => {
    source = exampleRepository(temp.path);
    repository = await releaseRepository(join(temp.path, 'releases'), { stableThreshold: 2 });
  });
  after(() => temp.cleanup());

  it('creates each channel root with its keys and threshold, keys as 0600 files', () => {
    const stableRoot = Metadata.fromJSON(MetadataKind.Root, json(repository.trustedRoot('stable')));
    assert.equal(stableRoot.signed.roles['targets']!.threshold, 2);
    assert.equal(stableRoot.signed.roles['root']!.threshold, 2);
    assert.equal(stableRoot.signed.roles['timestamp']!.threshold, 1);
    assert.equal(stableRoot.signed.consistentSnapshot, true);
    stableRoot.verifyDelegate('root', stableRoot);
    const canaryRoot = Metadata.fromJSON(MetadataKind.Root, json(repository.trustedRoot('canary')));
    assert.equal(canaryRoot.signed.roles['targets']!.threshold, 1);
    assert.notDeepEqual(
      canaryRoot.signed.roles['targets']!.keyIDs,
      stableRoot.signed.roles['targets']!.keyIDs,
    );
    const keys = join(temp.path, 'releases', 'keys', 'stable');
    assert.deepEqual(readdirSync(keys).sort(), ['online.pem', 'signer-1.pem', 'signer-2.pem']);
    for (const file of readdirSync(keys)) assert.equal(statSync(join(keys, file)).mode & 0o777, 0o600, file);
  });

  it('publishes a release as signed targets, snapshot and timestamp, and is idempotent', async () => {
    const first = await releaseCommit(repository, source.dir, source.commit, 'canary');
    assert.equal(first.status, 'published');
    assert.equal(first.version, 1);
    const timestamp = Metadata.fromJSON(
      MetadataKind.Timestamp,
      json(repository.readFile('canary', 'timestamp.json')),
    );
    const snapshot = Metadata.fromJSON(
      MetadataKind.Snapshot,
      json(repository.readFile('canary', `${timestamp.signed.snapshotMeta.version}.snapshot.json`)),
    );
    const targets = Metadata.fromJSON(
      MetadataKind.Targets,
      json(repository.readFile('canary', '1.targets.json')),
    );
    const root = Metadata.fromJSON(MetadataKind.Root, json(repository.trustedRoot('canary')));
    root.verifyDelegate('timestamp', timestamp);
    root.verifyDelegate('snapshot', snapshot);
    root.verifyDelegate('targets', targets);
    assert.equal(snapshot.signed.meta['targets.json']!.version, 1);
    const review = targets.signed.targets['code-review.json']!;
    assert.deepEqual(review.custom, {
      bundleId: repository.status('canary').targets.find((target) => target.name === 'code-review')!.bundleId,
      bundleVersion: '1.3.0',
      commit: source.commit,
    });
    const again = await releaseCommit(repository, source.dir, source.commit, 'canary');
    assert.equal(again.status, 'unchanged');
    assert.equal(again.version, 1);
    assert.equal(repository.status('canary').timestampVersion, 1);
  });

  it('promotion to stable needs two signers, then re-signs the same bundle hashes', async () => {
    const [first, second] = repository.defaultSigners('stable');
    const pending = await repository.promote({ from: 'canary', to: 'stable', signers: [first!] });
    assert.deepEqual(pending, { status: 'pending', channel: 'stable', version: 1, signatures: 1, needed: 2 });
    assert.equal(repository.readFile('stable', 'timestamp.json'), undefined, 'nothing published yet');
    assert.deepEqual(repository.status('stable').pending, { version: 1, signatures: 1, needed: 2 });

    // A signature by a key the stable root does not list does not count.
    const stranger = keySigner(generateKeyPairSync('ed25519').privateKey);
    const still = await repository.cosign({ channel: 'stable', signers: [stranger] });
    assert.equal(still.status, 'pending');

    const published = await repository.cosign({ channel: 'stable', signers: [second!] });
    assert.equal(published.status, 'published');
    const canary = repository.status('canary').targets;
    const stable = repository.status('stable').targets;
    assert.deepEqual(stable, canary, 'same names, hashes, lengths, bundle ids and commit');
    // Stored once: the canary and stable targets point at the same blob.
    assert.equal(readdirSync(join(temp.path, 'releases', 'blobs')).length, canary.length);
    const stableTargets = Metadata.fromJSON(
      MetadataKind.Targets,
      json(repository.readFile('stable', '1.targets.json')),
    );
    assert.equal(Object.keys(stableTargets.signatures).length, 2);
    assert.equal(repository.status('stable').pending, null);
  });

  it('a release withdraws blueprints missing from it, and promotion can name blueprints', async () => {
    const compiled = await compileCommit({ repoDir: source.dir, commit: source.commit });
    const only = compiled.bundles.filter((bundle) => bundle.name === 'code-review').map(releaseInput);
    const outcome = await repository.release({
      channel: 'canary',
      bundles: only,
      signers: repository.defaultSigners('canary'),
    });
    assert.equal(outcome.status, 'published');
    assert.deepEqual(
      repository.status('canary').targets.map((target) => target.name),
      ['code-review'],
    );
    const partial = await repository.promote({
      from: 'canary',
      to: 'stable',
      names: ['code-review'],
      signers: repository.defaultSigners('stable'),
    });
    assert.equal(partial.status, 'unchanged', 'stable already has this code-review bundle');
    await assert.rejects(
      repository.promote({
        from: 'canary',
        to: 'stable',
        names: ['ticket-triage'],
        signers: repository.defaultSigners('stable'),
      }),
      { code: 'PDK_RELEASE_CHANNEL', message: 'channel canary has no bundle for ticket-triage' },
    );
  });

  it('re-signs a timestamp that has used half its lifetime', async () => {
    let now = new Date();
    const dir = tempDir('paddock-release-clock-');
    try {
      const clocked = await releaseRepository(dir.path, { now: () => now });
      await releaseCommit(clocked, source.dir, source.commit, 'canary');
      assert.deepEqual(await clocked.refreshTimestamps(), []);
      now = new Date(now.getTime() + 13 * 3600 * 1000);
      assert.deepEqual(await clocked.refreshTimestamps(), ['canary']);
      assert.equal(clocked.status('canary').timestampVersion, 2);
      assert.equal(clocked.status('canary').targetsVersion, 1, 'same release');
    } finally {
      dir.cleanup();
    }
  });

  it('serves only repository file names, never a path out of it', () => {
    for (const path of [
      '../keys/canary/online.pem',
      'root/../../keys/canary/signer-1.pem',
      'pending.targets.json',
      'blobs/x',
      '/etc/passwd',
      'targets/../1.targets.json',
    ])
      assert.equal(repository.readFile('canary', path), undefined, path);
    assert.equal(repository.readFile('nightly', 'timestamp.json'), undefined);
    assert.ok(repository.readFile('canary', 'root/1.json'));
  });

  it('refuses unknown channels and unusable key files', async () => {
    assert.throws(() => repository.status('nightly'), {
      code: 'PDK_RELEASE_CHANNEL',
      message: 'no release channel "nightly" (channels: canary, stable)',
    });
    const keyFile = join(temp.path, 'loose.pem');
    writeFileSync(
      keyFile,
      generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    chmodSync(keyFile, 0o644);
    assert.throws(() => fileSigner(keyFile), {
      code: 'PDK_RELEASE_KEY',
      message: `signing key ${keyFile} has mode 644: it must be readable by its owner only (chmod 600)`,
    });
    const rsa = join(temp.path, 'rsa.pem');
    writeFileSync(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
      { mode: 0o600 },
    );
    assert.throws(() => fileSigner(rsa), {
      code: 'PDK_RELEASE_KEY',
      message: `signing key ${rsa} is not an Ed25519 key`,
    });
  });
});
