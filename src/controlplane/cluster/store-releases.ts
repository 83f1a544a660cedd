import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetadataKind, type Root } from '@tufjs/models';
import type pg from 'pg';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import {
  fileSigner,
  type ReleaseOutcome,
  type ReleaseRepository,
  readReleaseRepository,
  type Signer,
} from '../releases/index.ts';
import { readMetadata } from '../releases/metadata.ts';
import { runInTransaction } from './fencing.ts';
import { CLUSTER_TOPICS, type ClusterBus } from './notify-bus.ts';
import { readReleaseChannels, writeReleaseFiles } from './release-files.ts';
import { ReleaseMirror } from './release-mirror.ts';
import { verifyStoredRelease, verifyStoredRoot } from './release-verify.ts';

// An operator's change to a cluster's release repository (`paddock policy promote | cosign
// --database-url`): the leader writes releases under its term, but a second signer is a person
// with a key, not a replica. So the store's files are mirrored to a temporary directory
// (release-mirror.ts), the repository operation runs there as on a data directory, the result
// is verified as a supervisor would, and only the changed files are written back in one
// transaction that first checks the rows read are unchanged (optimistic: a write of the leader
// in between is PDK_RELEASE_CONFLICT, nothing written). Then the releases topic tells every
// replica to pull and notify its supervisors.
//
//   const outcome = await editStoreReleases({ pool, bus, onlineKeysDir, channel: 'stable', signers },
//     (repository) => repository.cosign({ channel: 'stable', signers }));
//   const channels = await readStoreReleases(pool, (repository) => repository.channels());
//   const rootVersion = await rotateStoreRoot({ pool, bus, onlineKeysDir, channel: 'stable', signers },
//     { newSigners, threshold: 2 });

const log = createLogger('releases');

export interface StoreReleaseEdit {
  readonly pool: pg.Pool;
  /** Where the releases topic is published once the change is stored. */
  readonly bus: Pick<ClusterBus, 'publish'>;
  /** Where `CHANNEL.online.pem` is (the Secret `paddock serve --release-keys` mounts): it signs snapshot and timestamp. */
  readonly onlineKeysDir: string;
  /** The channel the operation signs into, and the operator's signers: each must be one the channel's root trusts. */
  readonly channel: string;
  readonly signers: readonly Signer[];
  readonly now?: () => number;
  /** Tests: runs after the operation, before the write back (where a concurrent write would land). */
  readonly beforeWrite?: () => Promise<void>;
}

/** Runs `operation` on a copy of the store's repository and stores what it changed (see above). */
export function editStoreReleases(
  options: StoreReleaseEdit,
  operation: (repository: ReleaseRepository) => Promise<ReleaseOutcome>,
): Promise<ReleaseOutcome> {
  return changeStore(options, MetadataKind.Targets, operation, (root) => {
    throw new PaddockError(
      'PDK_RELEASE_SIGNATURE',
      `the change would rewrite ${root}; a promotion or co-signature never changes a root, nothing was written`,
    );
  });
}

/**
 * `paddock policy rotate-root --database-url`: the channel's next root, made on a copy as on a
 * data directory (signed by a threshold of the current root's keys and by the new keys, the
 * current release re-signed by the new keys), stored only when the new root chains to the one
 * before it and the channel verifies under it. `options.signers` are the current root's keys.
 */
export function rotateStoreRoot(
  options: StoreReleaseEdit,
  rotation: { readonly newSigners: readonly Signer[]; readonly threshold: number },
): Promise<number> {
  let version = 0;
  return changeStore(
    options,
    MetadataKind.Root,
    async (repository) => {
      version = await repository.rotateRoot({
        channel: options.channel,
        signers: options.signers,
        ...rotation,
      });
    },
    (key, repository) => {
      // Only the channel's next root, never a rewritten one: it must chain as a supervisor checks it.
      const [channel, , file] = key.split('/');
      const number = Number(file?.replace(/\.json$/, ''));
      const current = readMetadata<Root>(MetadataKind.Root, repository.trustedRoot(options.channel));
      if (channel !== options.channel || number !== version || current.signed.version !== version)
        throw new PaddockError(
          'PDK_RELEASE_SIGNATURE',
          `the rotation would write ${key}, not ${options.channel}'s next root: nothing was written`,
        );
      const previous = repository.readFile(options.channel, `root/${version - 1}.json`);
      verifyStoredRoot(
        options.channel,
        version,
        repository.trustedRoot(options.channel),
        previous ? readMetadata<Root>(MetadataKind.Root, previous) : undefined,
        new Set(),
      );
    },
  ).then(() => version);
}

/**
 * The shared path of every operator change (see the top): verify, check the signers against
 * `role` of the channel's root, operate, check each root the change writes with `onRoot`,
 * verify again, write back against the rows read, publish.
 */
async function changeStore<T>(
  options: StoreReleaseEdit,
  role: MetadataKind.Targets | MetadataKind.Root,
  operation: (repository: ReleaseRepository) => Promise<T>,
  onRoot: (key: string, repository: ReleaseRepository) => void,
): Promise<T> {
  const now = options.now ?? Date.now;
  return withCopy(
    options.pool,
    (channel) => fileSigner(join(options.onlineKeysDir, `${channel}.online.pem`), { groupReadable: true }),
    async ({ mirror, repository, channels }) => {
      // Fail closed before signing anything: on top of metadata that verifies, with trusted keys only.
      for (const channel of channels) verifyChannel(repository, channel);
      requireTrustedSigners(repository, options.channel, options.signers, role);
      const outcome = await operation(repository);
      const change = mirror.localChange();
      const keys = [...change.put.keys(), ...change.remove];
      const touched = new Set(keys.map((key) => key.split('/')[0] as string));
      if (touched.size === 0 && change.blobs.size === 0) return outcome;
      for (const key of change.remove)
        if (key.includes('/root/'))
          throw new PaddockError(
            'PDK_RELEASE_SIGNATURE',
            `the change would remove ${key}: nothing was written`,
          );
      for (const key of change.put.keys()) if (key.includes('/root/')) onRoot(key, repository);
      // Never write what a supervisor would refuse.
      for (const channel of touched) verifyChannel(repository, channel);
      await options.beforeWrite?.();
      await runInTransaction(options.pool, (tx) =>
        writeReleaseFiles(tx, change, now(), { channels, metadata: mirror.synced }),
      );
      // Stored: a lost notice only delays the replicas until their next timed pull.
      for (const channel of touched)
        await options.bus
          .publish(CLUSTER_TOPICS.releases, { channel })
          .catch((error: Error) => log.warn({ channel, error: error.message }, 'release notice failed'));
      return outcome;
    },
  );
}

/** Runs `read` on a copy of the store's repository (nothing is written; its roots are checked). */
export function readStoreReleases<T>(pool: pg.Pool, read: (repository: ReleaseRepository) => T): Promise<T> {
  return withCopy(pool, undefined, async ({ repository }) => read(repository));
}

interface StoreCopy {
  readonly mirror: ReleaseMirror;
  readonly repository: ReleaseRepository;
  readonly channels: readonly string[];
}

async function withCopy<T>(
  pool: pg.Pool,
  onlineSigner: ((channel: string) => Signer) | undefined,
  work: (copy: StoreCopy) => Promise<T>,
): Promise<T> {
  const channels = await readReleaseChannels(pool);
  if (channels.length === 0)
    throw new PaddockError(
      'PDK_RELEASE_CHANNEL',
      'the store holds no release channel: start `paddock serve` once (its first replica stores each channel of paddock.yaml)',
    );
  const dir = mkdtempSync(join(tmpdir(), 'paddock-store-releases-'));
  try {
    const mirror = new ReleaseMirror({
      pool,
      dir,
      channels,
      // Each root must chain to the one before it. This copy has no mounted signers to hold root 1
      // against: it must be signed by its own keys, and the operator's keys must be among them.
      verifyRoot: (channel, version, bytes, previous) =>
        verifyStoredRoot(
          channel,
          version,
          bytes,
          previous ? readMetadata<Root>(MetadataKind.Root, previous) : undefined,
          rootKeyIDs(bytes),
        ),
    });
    await mirror.pull();
    if (mirror.refusedRoots.length > 0)
      throw new PaddockError(
        'PDK_RELEASE_SIGNATURE',
        `the store's ${mirror.refusedRoots.join(', ')} is not signed by the root before it: nothing was read or signed`,
      );
    const repository = readReleaseRepository(dir, onlineSigner ? { onlineSigner } : {});
    return await work({ mirror, repository, channels });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function verifyChannel(repository: ReleaseRepository, channel: string): void {
  verifyStoredRelease(
    channel,
    readMetadata<Root>(MetadataKind.Root, repository.trustedRoot(channel)),
    (path) => repository.readFile(channel, path),
  );
}

/** PDK_RELEASE_UNTRUSTED_SIGNER unless every signer is a `role` key of the channel's current root. */
function requireTrustedSigners(
  repository: ReleaseRepository,
  channel: string,
  signers: readonly Signer[],
  role: MetadataKind.Targets | MetadataKind.Root,
): void {
  const root = readMetadata<Root>(MetadataKind.Root, repository.trustedRoot(channel));
  const trusted = new Set(root.signed.roles[role]?.keyIDs ?? []);
  const stray = signers.filter((signer) => !trusted.has(signer.key.keyID));
  if (stray.length > 0)
    throw new PaddockError(
      'PDK_RELEASE_UNTRUSTED_SIGNER',
      `channel ${channel}'s root (version ${root.signed.version}) does not trust the key ${stray.map((signer) => signer.key.keyID).join(', ')}: nothing was signed or written`,
    );
}

/** The root-role keys a root lists (none when it does not parse: verifyStoredRoot refuses it then). */
function rootKeyIDs(bytes: Uint8Array): Set<string> {
  try {
    return new Set(
      readMetadata<Root>(MetadataKind.Root, bytes).signed.roles[MetadataKind.Root]?.keyIDs ?? [],
    );
  } catch {
    return new Set();
  }
}
