import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Metadata, MetaFile, Snapshot, TargetFile, Targets, Timestamp } from '@tufjs/models';
import {
  compileCommit,
  fileSigner,
  keySigner,
  type ReleaseRepository,
  type Signer,
  releaseInput,
} from '../../../src/controlplane/releases/index.ts';
import { metadataBytes, signMetadata } from '../../../src/controlplane/releases/metadata.ts';
import type { OcsfEvent } from '../../../src/audit/index.ts';
import { BundleUpdater, PolicyHolder, type ReleaseFetch } from '../../../src/supervisor/policy/index.ts';
import {
  commitAll,
  exampleRepository,
  releaseCommit,
  releaseRepository,
  repositoryFetch,
  tempDir,
} from '../../support/releases.ts';

// Issue 8, item 3 and DESIGN.md §5 invariant 5: a bundle is applied only if its metadata
// verifies as TUF prescribes; each attack below is played against a real release repository,
// and after each one the bundle in force must be the one before it (or deny-all with none).

const DAY = 86400 * 1000;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const expires = (ms: number) => new Date(Date.now() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Metadata an attacker (or a compromised online key) builds: targets → snapshot → timestamp. */
async function forge(options: {
  targets: Record<string, { bytes: Uint8Array; path: string }>;
  targetsVersion: number;
  targetsSigners: readonly Signer[];
  snapshotVersion: number;
  timestampVersion: number;
  online: Signer;
  timestampExpiresMs?: number;
}): Promise<Map<string, Uint8Array>> {
  const served = new Map<string, Uint8Array>();
  const entries: Record<string, TargetFile> = {};
  for (const [name, target] of Object.entries(options.targets)) {
    entries[name] = new TargetFile({
      path: name,
      length: target.bytes.byteLength,
      hashes: { sha256: sha256(target.bytes) },
    });
    served.set(`targets/${sha256(target.bytes)}.${name}`, target.bytes);
  }
  const targets = new Metadata(
    new Targets({
      version: options.targetsVersion,
      specVersion: '1.0.31',
      expires: expires(30 * DAY),
      targets: entries,
    }),
  );
  await signMetadata(targets, options.targetsSigners);
  const targetsBytes = metadataBytes(targets);
  served.set(`${options.targetsVersion}.targets.json`, targetsBytes);
  const snapshot = new Metadata(
    new Snapshot({
      version: options.snapshotVersion,
      specVersion: '1.0.31',
      expires: expires(7 * DAY),
      meta: {
        'targets.json': new MetaFile({
          version: options.targetsVersion,
          length: targetsBytes.byteLength,
          hashes: { sha256: sha256(targetsBytes) },
        }),
      },
    }),
  );
  await signMetadata(snapshot, [options.online]);
  const snapshotBytes = metadataBytes(snapshot);
  served.set(`${options.snapshotVersion}.snapshot.json`, snapshotBytes);
  const timestamp = new Metadata(
    new Timestamp({
      version: options.timestampVersion,
      specVersion: '1.0.31',
      expires: expires(options.timestampExpiresMs ?? DAY),
      snapshotMeta: new MetaFile({
        version: options.snapshotVersion,
        length: snapshotBytes.byteLength,
        hashes: { sha256: sha256(snapshotBytes) },
      }),
    }),
  );
  await signMetadata(timestamp, [options.online]);
  served.set('timestamp.json', metadataBytes(timestamp));
  return served;
}

describe('supervisor bundle verification: attacks (issue 8, item 3)', () => {
  const temp = tempDir('paddock-release-attacks-');
  let source: { dir: string; commit: string };
  let second: string;
  let releasesDir: string;
  let repository: ReleaseRepository;
  let workspace = 0;
  /** The bundle bytes of a permissive blueprint, what an attacker would like applied. */
  let permissive: Uint8Array;

  before(async () => {
    source = exampleRepository(temp.path);
    const file = join(source.dir, 'blueprints', 'code-review.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"npm test"', '"npm test", "npm ci"'));
    second = commitAll(source.dir, 'allow npm ci');
    releasesDir = join(temp.path, 'releases');
    repository = await releaseRepository(releasesDir, { stableThreshold: 2 });
    const compiled = await compileCommit({ repoDir: source.dir, commit: source.commit });
    // coding-agent's bundle allows more than code-review's: serving it as code-review is an attack.
    permissive = compiled.bundles.find((bundle) => bundle.name === 'coding-agent')!.bytes;
  });
  after(() => temp.cleanup());

  const online = (channel: string) => fileSigner(join(releasesDir, 'keys', channel, 'online.pem'));

  function supervisor(
    channel: string,
    fetch: ReleaseFetch,
    options: { now?: () => Date; stateDir?: string } = {},
  ) {
    const holder = new PolicyHolder({ memoEntries: 0 });
    const stateDir = options.stateDir ?? join(temp.path, `workspace-${++workspace}`);
    const attestations: unknown[] = [];
    const updater = new BundleUpdater({
      stateDir,
      channel,
      blueprint: 'code-review',
      initialRoot: repository.trustedRoot(channel),
      fetch,
      holder,
      attest: (attestation) => attestations.push(attestation),
      ...(options.now ? { now: options.now } : {}),
    });
    return { holder, updater, stateDir, attestations };
  }

  /** Another updater over the same state directory and policy (the supervisor's next fetch). */
  const again = (stateDir: string, holder: PolicyHolder, fetch: ReleaseFetch, now?: () => Date) =>
    new BundleUpdater({
      stateDir,
      channel: 'canary',
      blueprint: 'code-review',
      initialRoot: repository.trustedRoot('canary'),
      fetch,
      holder,
      ...(now ? { now } : {}),
    });

  const rejected = async (updater: BundleUpdater, code: string, message: RegExp) => {
    const outcome = await updater.update();
    assert.equal(outcome.result, 'rejected');
    assert.ok(outcome.result === 'rejected');
    assert.equal(outcome.error.code, code, outcome.error.message);
    assert.match(outcome.error.message, message);
  };

  it('applies a verified release and attests it', async () => {
    await releaseCommit(repository, source.dir, source.commit, 'canary');
    const { holder, updater, attestations } = supervisor('canary', repositoryFetch(repository, 'canary'));
    const outcome = await updater.start();
    assert.equal(outcome.result, 'applied');
    const target = repository.status('canary').targets.find((entry) => entry.name === 'code-review')!;
    assert.deepEqual(holder.current.ref, {
      id: target.bundleId,
      version: '1.3.0',
      hash: target.sha256,
      release: 1,
      commit: source.commit,
    });
    assert.deepEqual(attestations.at(-1), {
      channel: 'canary',
      blueprint: 'code-review',
      state: 'applied',
      bundle: { id: target.bundleId, version: '1.3.0', hash: target.sha256 },
      release: 1,
      commit: source.commit,
    });
    const decision = holder.decide({ action: 'exec', argv: ['git', 'status'] });
    assert.equal(decision.decision, 'allow');
    assert.deepEqual(decision.bundle, { id: target.bundleId, version: '1.3.0' });
  });

  it('denies everything while no valid bundle has ever been applied', async () => {
    const { holder, updater, attestations } = supervisor('stable', repositoryFetch(repository, 'stable'));
    const outcome = await updater.start();
    assert.equal(outcome.result, 'rejected');
    assert.ok(outcome.result === 'rejected');
    assert.equal(outcome.error.code, 'PDK_RELEASE_FETCH');
    assert.equal(outcome.error.message, 'the control plane has no timestamp.json');
    assert.equal(holder.denying, true);
    const decision = holder.decide({ action: 'exec', argv: ['git', 'status'] });
    assert.equal(decision.decision, 'deny');
    assert.deepEqual(decision.bundle, { id: 'deny-all', version: '0' });
    assert.equal(holder.current.egress.services.length, 0, 'no egress either');
    assert.deepEqual(attestations.at(-1), {
      channel: 'stable',
      blueprint: 'code-review',
      state: 'deny-all',
      bundle: null,
      release: 0,
      commit: null,
      error: { code: 'PDK_RELEASE_FETCH', message: 'the control plane has no timestamp.json' },
    });
  });

  it('a refused release is audited as policy.rejected, an applied one as policy.applied', async () => {
    const events: OcsfEvent[] = [];
    const replay = new Map<string, Uint8Array | undefined>([['timestamp.json', new Uint8Array(20_000)]]);
    const holder = new PolicyHolder();
    const audited = (fetch: ReleaseFetch, stateDir: string) =>
      new BundleUpdater({
        stateDir,
        channel: 'canary',
        blueprint: 'code-review',
        initialRoot: repository.trustedRoot('canary'),
        fetch,
        holder,
        workspaceId: 'ws-audit',
        audit: (event) => events.push(event),
      });
    const stateDir = join(temp.path, 'workspace-audit');
    await audited(repositoryFetch(repository, 'canary'), stateDir).start();
    await audited(repositoryFetch(repository, 'canary', replay), stateDir).update();
    const codes = events.map((event) => (event as { metadata: { event_code: string } }).metadata.event_code);
    assert.deepEqual(codes, ['policy.applied', 'policy.rejected']);
    type Fields = {
      app: { uid: string };
      device: { uid: string };
      status_code: string;
      disposition: string;
      unmapped: { paddock: { kept_bundle: unknown } };
    };
    const [applied, rejected] = events as unknown as Fields[];
    assert.equal(applied!.app.uid, holder.current.ref.id);
    assert.equal(applied!.device.uid, 'ws-audit');
    assert.equal(rejected!.status_code, 'file_too_large');
    assert.equal(rejected!.disposition, 'Rejected');
    assert.deepEqual(rejected!.unmapped.paddock.kept_bundle, {
      id: holder.current.ref.id,
      version: holder.current.ref.version,
    });
  });

  it('arbitrary bundle: targets signed by a key the channel does not trust', async () => {
    const { holder, updater, stateDir } = supervisor('canary', repositoryFetch(repository, 'canary'));
    await updater.start();
    const before = holder.current.ref;
    const attacker = keySigner(generateKeyPairSync('ed25519').privateKey);
    // Even with the online key (a compromised control plane host), targets need the signers' keys.
    const served = await forge({
      targets: { 'code-review.json': { bytes: permissive, path: 'code-review.json' } },
      targetsVersion: 9,
      targetsSigners: [attacker],
      snapshotVersion: 9,
      timestampVersion: 9,
      online: online('canary'),
    });
    const forged = again(
      stateDir,
      holder,
      repositoryFetch(repository, 'canary', served as Map<string, Uint8Array | undefined>),
    );
    await rejected(forged, 'PDK_RELEASE_SIGNATURE', /^targets: targets was signed by 0\/1 keys$/);
    assert.deepEqual(holder.current.ref, before);
    // The timestamp signed by someone else entirely fails at the first step.
    const foreign = await forge({
      targets: {},
      targetsVersion: 9,
      targetsSigners: [attacker],
      snapshotVersion: 9,
      timestampVersion: 9,
      online: attacker,
    });
    const other = supervisor(
      'canary',
      repositoryFetch(repository, 'canary', foreign as Map<string, Uint8Array | undefined>),
    );
    await other.updater.start();
    assert.equal(other.holder.denying, true);
    assert.equal(other.updater.lastError?.code, 'PDK_RELEASE_SIGNATURE');
    assert.equal(other.updater.lastError?.message, 'timestamp: timestamp was signed by 0/1 keys');
  });

  it('arbitrary bundle: other bytes served for a signed target', async () => {
    const target = repository.status('canary').targets.find((entry) => entry.name === 'code-review')!;
    const bigger = new Uint8Array(target.length);
    bigger.set(permissive.subarray(0, target.length));
    const served = new Map<string, Uint8Array | undefined>([
      [`targets/${target.sha256}.code-review.json`, bigger],
    ]);
    const { holder, updater } = supervisor('canary', repositoryFetch(repository, 'canary', served));
    await updater.start();
    assert.equal(updater.lastError?.code, 'PDK_RELEASE_MISMATCH');
    assert.equal(
      updater.lastError?.message,
      'target code-review.json does not have the sha256 targets records',
    );
    assert.equal(holder.denying, true);
  });

  it('rollback: older timestamp, snapshot or targets are refused, also after a restart', async () => {
    const oldTimestamp = repository.readFile('canary', 'timestamp.json')!;
    const { holder, updater, stateDir } = supervisor('canary', repositoryFetch(repository, 'canary'));
    await updater.start();
    await releaseCommit(repository, source.dir, second, 'canary');
    assert.equal((await updater.update()).result, 'applied');
    const current = holder.current.ref;
    assert.equal(current.release, 2);
    assert.equal(current.commit, second);

    const replay = new Map<string, Uint8Array | undefined>([['timestamp.json', oldTimestamp]]);
    const replayed = again(stateDir, holder, repositoryFetch(repository, 'canary', replay));
    await rejected(replayed, 'PDK_RELEASE_ROLLBACK', /^timestamp version 1 is lower than the trusted 2$/);
    assert.deepEqual(holder.current.ref, current);

    // After a restart the trusted versions are read back from the state directory.
    const restartedHolder = new PolicyHolder();
    const restarted = again(stateDir, restartedHolder, repositoryFetch(repository, 'canary', replay));
    const outcome = await restarted.start();
    assert.equal(outcome.result, 'rejected');
    assert.equal(restarted.lastError?.code, 'PDK_RELEASE_ROLLBACK');
    assert.deepEqual(restartedHolder.current.ref, current, 'the last good bundle, not the old release');

    // With the online key an attacker can sign a newer timestamp and snapshot, but not make
    // them point at the older targets.
    const oldTargets = repository.readFile('canary', '1.targets.json')!;
    const status = repository.status('canary');
    const snapshot = new Metadata(
      new Snapshot({
        version: 7,
        specVersion: '1.0.31',
        expires: expires(DAY),
        meta: {
          'targets.json': new MetaFile({
            version: 1,
            length: oldTargets.byteLength,
            hashes: { sha256: sha256(oldTargets) },
          }),
        },
      }),
    );
    await signMetadata(snapshot, [online('canary')]);
    const snapshotBytes = metadataBytes(snapshot);
    const timestamp = new Metadata(
      new Timestamp({
        version: status.timestampVersion + 5,
        specVersion: '1.0.31',
        expires: expires(DAY),
        snapshotMeta: new MetaFile({
          version: 7,
          length: snapshotBytes.byteLength,
          hashes: { sha256: sha256(snapshotBytes) },
        }),
      }),
    );
    await signMetadata(timestamp, [online('canary')]);
    const downgrade = new Map<string, Uint8Array | undefined>([
      ['timestamp.json', metadataBytes(timestamp)],
      ['7.snapshot.json', snapshotBytes],
    ]);
    const downgraded = again(stateDir, holder, repositoryFetch(repository, 'canary', downgrade));
    await rejected(
      downgraded,
      'PDK_RELEASE_ROLLBACK',
      /^the new snapshot lists targets\.json version 1, lower than the trusted 2$/,
    );
    assert.deepEqual(holder.current.ref, current);
  });

  it('indefinite freeze: an expired timestamp is refused and the bundle in force stays', async () => {
    const { holder, updater, stateDir } = supervisor('canary', repositoryFetch(repository, 'canary'));
    await updater.start();
    const current = holder.current.ref;
    const later = () => new Date(Date.now() + 2 * DAY);
    const frozen = again(stateDir, holder, repositoryFetch(repository, 'canary'), later);
    await rejected(
      frozen,
      'PDK_RELEASE_EXPIRED',
      /^timestamp version \d+ expired at .* \(freeze attack or a stalled release service\)$/,
    );
    assert.deepEqual(holder.current.ref, current);
    // A supervisor that starts on frozen metadata applies nothing: it denies everything.
    const fresh = supervisor('canary', repositoryFetch(repository, 'canary'), { now: later });
    await fresh.updater.start();
    assert.equal(fresh.holder.denying, true);
    assert.equal(fresh.updater.lastError?.code, 'PDK_RELEASE_EXPIRED');
  });

  it('mix-and-match: targets of one release with the snapshot of another are refused', async () => {
    const { holder, updater, stateDir } = supervisor('canary', repositoryFetch(repository, 'canary'));
    // The current snapshot names targets version 2: serve release 1's targets under that name.
    const mixed = new Map<string, Uint8Array | undefined>([
      ['2.targets.json', repository.readFile('canary', '1.targets.json')],
    ]);
    const mixedUpdater = again(stateDir, holder, repositoryFetch(repository, 'canary', mixed));
    await rejected(
      mixedUpdater,
      'PDK_RELEASE_MISMATCH',
      /^targets is \d+ bytes, its parent records \d+$|^targets does not have the sha256 its parent records \(mix-and-match\)$/,
    );
    assert.equal(holder.denying, true);
    // The genuine files from the same supervisor state still apply.
    await updater.start();
    assert.equal(holder.current.ref.release, 2);
  });

  it('endless data: every fetched file has a size limit', async () => {
    const huge = new Uint8Array(64 * 1024 * 1024).fill(0x20);
    const fetch: ReleaseFetch = async (path, maxBytes) => {
      if (path === 'timestamp.json') return huge; // ignores maxBytes, as a hostile server would
      return repository.readFile('canary', path)?.subarray(0, maxBytes + 1);
    };
    const { holder, updater } = supervisor('canary', fetch);
    await updater.start();
    assert.equal(updater.lastError?.code, 'PDK_RELEASE_TOO_LARGE');
    assert.equal(updater.lastError?.message, 'timestamp.json exceeds its limit of 16384 bytes');
    assert.equal(holder.denying, true);

    // A target longer than its signed length is cut at length + 1 bytes and refused.
    const target = repository.status('canary').targets.find((entry) => entry.name === 'code-review')!;
    const served = new Map<string, Uint8Array | undefined>([
      [`targets/${target.sha256}.code-review.json`, new Uint8Array(target.length * 100)],
    ]);
    const padded = supervisor('canary', repositoryFetch(repository, 'canary', served));
    await padded.updater.start();
    assert.equal(padded.updater.lastError?.code, 'PDK_RELEASE_TOO_LARGE');
    assert.equal(
      padded.updater.lastError?.message,
      `targets/${target.sha256}.code-review.json exceeds its limit of ${target.length} bytes`,
    );
  });

  it('too few signatures: a stable release signed by 1 of its 2 signers is refused', async () => {
    await releaseCommit(repository, source.dir, source.commit, 'canary');
    const [first, second_] = repository.defaultSigners('stable');
    // What a single signer (or a stolen key) could publish on their own.
    const compiled = await compileCommit({ repoDir: source.dir, commit: source.commit });
    const review = compiled.bundles.find((bundle) => bundle.name === 'code-review')!;
    const served = await forge({
      targets: { 'code-review.json': { bytes: review.bytes, path: 'code-review.json' } },
      targetsVersion: 1,
      targetsSigners: [first!],
      snapshotVersion: 1,
      timestampVersion: 1,
      online: online('stable'),
    });
    const alone = supervisor(
      'stable',
      repositoryFetch(repository, 'stable', served as Map<string, Uint8Array | undefined>),
    );
    await alone.updater.start();
    assert.equal(alone.updater.lastError?.code, 'PDK_RELEASE_SIGNATURE');
    assert.equal(alone.updater.lastError?.message, 'targets: targets was signed by 1/2 keys');
    assert.equal(alone.holder.denying, true);
    // The same signer twice is still one signer.
    const twice = await forge({
      targets: { 'code-review.json': { bytes: review.bytes, path: 'code-review.json' } },
      targetsVersion: 1,
      targetsSigners: [first!, first!],
      snapshotVersion: 1,
      timestampVersion: 1,
      online: online('stable'),
    });
    const doubled = supervisor(
      'stable',
      repositoryFetch(repository, 'stable', twice as Map<string, Uint8Array | undefined>),
    );
    await doubled.updater.start();
    assert.equal(doubled.updater.lastError?.message, 'targets: targets was signed by 1/2 keys');
    // Both signers: applied.
    const both = await forge({
      targets: { 'code-review.json': { bytes: review.bytes, path: 'code-review.json' } },
      targetsVersion: 1,
      targetsSigners: [first!, second_!],
      snapshotVersion: 1,
      timestampVersion: 1,
      online: online('stable'),
    });
    const signed = supervisor(
      'stable',
      repositoryFetch(repository, 'stable', both as Map<string, Uint8Array | undefined>),
    );
    assert.equal((await signed.updater.start()).result, 'applied');
  });

  it('root chain: follows a rotated root, refuses a root the old keys did not sign', async () => {
    const dir = tempDir('paddock-release-root-');
    try {
      const rotating = await releaseRepository(join(dir.path, 'releases'));
      await releaseCommit(rotating, source.dir, source.commit, 'canary');
      const oldRoot = rotating.trustedRoot('canary');
      const holder = new PolicyHolder();
      const updater = new BundleUpdater({
        stateDir: join(dir.path, 'ws'),
        channel: 'canary',
        blueprint: 'code-review',
        initialRoot: oldRoot,
        fetch: repositoryFetch(rotating, 'canary'),
        holder,
      });
      assert.equal((await updater.start()).result, 'applied');

      // A forged root 2 listing the attacker's key, signed only by that key.
      const attacker = keySigner(generateKeyPairSync('ed25519').privateKey);
      const forgedDir = tempDir('paddock-release-forged-');
      const forgedRepo = await releaseRepository(forgedDir.path);
      await forgedRepo.rotateRoot({
        channel: 'canary',
        signers: forgedRepo.defaultSigners('canary'),
        newSigners: [attacker],
        threshold: 1,
      });
      const forgedRoot = forgedRepo.readFile('canary', 'root/2.json');
      forgedDir.cleanup();
      const evil = new BundleUpdater({
        stateDir: join(dir.path, 'ws'),
        channel: 'canary',
        blueprint: 'code-review',
        initialRoot: oldRoot,
        fetch: repositoryFetch(rotating, 'canary', new Map([['root/2.json', forgedRoot]])),
        holder,
      });
      await rejected(
        evil,
        'PDK_RELEASE_SIGNATURE',
        /^root version 2 \(by the trusted root\): root was signed by 0\/1 keys$/,
      );

      // The real rotation: new signers, signed by the old and the new keys.
      const newSigner = keySigner(generateKeyPairSync('ed25519').privateKey);
      assert.equal(
        await rotating.rotateRoot({
          channel: 'canary',
          signers: rotating.defaultSigners('canary'),
          newSigners: [newSigner],
          threshold: 1,
        }),
        2,
      );
      const compiled = await compileCommit({ repoDir: source.dir, commit: second });
      // The old signer no longer counts; the new one does.
      const stale = await rotating.release({
        channel: 'canary',
        bundles: compiled.bundles.map(releaseInput),
        signers: rotating.defaultSigners('canary'),
      });
      assert.equal(stale.status, 'pending');
      const fresh = await rotating.cosign({ channel: 'canary', signers: [newSigner] });
      assert.equal(fresh.status, 'published');
      const outcome = await updater.update();
      assert.equal(outcome.result, 'applied');
      assert.equal(holder.current.ref.commit, second);
    } finally {
      dir.cleanup();
    }
  });

  it('a blueprint withdrawn by a signed release is denied everything', async () => {
    const dir = tempDir('paddock-release-withdraw-');
    try {
      const withdrawing = await releaseRepository(join(dir.path, 'releases'));
      await releaseCommit(withdrawing, source.dir, source.commit, 'canary');
      const holder = new PolicyHolder();
      const updater = new BundleUpdater({
        stateDir: join(dir.path, 'ws'),
        channel: 'canary',
        blueprint: 'code-review',
        initialRoot: withdrawing.trustedRoot('canary'),
        fetch: repositoryFetch(withdrawing, 'canary'),
        holder,
      });
      assert.equal((await updater.start()).result, 'applied');
      // The same bundle in a later release (others withdrawn): nothing rebuilt, the release number follows.
      const before = holder.current;
      const compiled = await compileCommit({ repoDir: source.dir, commit: source.commit });
      const only = compiled.bundles.filter((bundle) => bundle.name === 'code-review').map(releaseInput);
      const again = await withdrawing.release({
        channel: 'canary',
        bundles: only,
        signers: withdrawing.defaultSigners('canary'),
      });
      assert.equal(again.version, 2);
      assert.equal((await updater.update()).result, 'unchanged');
      assert.equal(holder.current.decisionPoint, before.decisionPoint);
      assert.equal(holder.current.ref.release, 2);
      assert.equal(updater.attestation().release, 2);
      await withdrawing.release({
        channel: 'canary',
        bundles: [],
        signers: withdrawing.defaultSigners('canary'),
      });
      assert.equal((await updater.update()).result, 'withdrawn');
      assert.equal(holder.denying, true);
    } finally {
      dir.cleanup();
    }
  });
});
