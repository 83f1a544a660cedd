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
export async function editStoreReleases(
  options: StoreReleaseEdit,
  operation: (repository: ReleaseRepository) => Promise<ReleaseOutcome>,
): Promise<ReleaseOutcome> {
  const now = options.now ?? Date.now;
  return withCopy(
    options.pool,
    (channel) => fileSigner(join(options.onlineKeysDir, `${channel}.online.pem`), { groupReadable: true }),
    async ({ mirror, repository, channels }) => {
      // Fail closed before signing anything: on top of metadata that verifies, with trusted keys only.
      for (const channel of channels) verifyChannel(repository, channel);
      requireTrustedSigners(repository, options.channel, options.signers);
      const outcome = await operation(repository);
      const change = mirror.localChange();
      const touched = new Set(
        [...change.put.keys(), ...change.remove].map((key) => key.split('/')[0] as string),
      );
      if (touched.size === 0 && change.blobs.size === 0) return outcome;
      const root = [...change.put.keys(), ...change.remove].find((key) => key.includes('/root/'));
      if (root)
        throw new PaddockError(
          'PDK_RELEASE_SIGNATURE',
          `the change would rewrite ${root}; a promotion or co-signature never changes a root, nothing was written`,
        );
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

/** PDK_RELEASE_UNTRUSTED_SIGNER unless every signer is a targets key of the channel's current root. */
function requireTrustedSigners(
  repository: ReleaseRepository,
  channel: string,
  signers: readonly Signer[],
): void {
  const root = readMetadata<Root>(MetadataKind.Root, repository.trustedRoot(channel));
  const trusted = new Set(root.signed.roles[MetadataKind.Targets]?.keyIDs ?? []);
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
