import {
  type Metadata,
  MetadataKind,
  type MetaFile,
  type Root,
  type Snapshot,
  type Targets,
  type Timestamp,
} from '@tufjs/models';
import { PaddockError } from '../../core/errors.ts';
import { readMetadata } from '../releases/metadata.ts';

// The store is untrusted storage for supervisors, who verify everything. The control plane must
// not trust it blindly either where it acts on what it reads: a root it hands a new workspace as
// its trust anchor, and a release it re-signs (a promotion copies the source channel's target
// entries, a timestamp refresh re-signs the snapshot it points at). So a replica accepts a root
// from the store only when it chains to the one before it (root 1: made with the mounted keys),
// and the leader signs nothing on top of a channel whose current metadata does not verify.

const refuse = (channel: string, why: string): never => {
  throw new PaddockError(
    'PDK_RELEASE_SIGNATURE',
    `channel ${channel}: the release metadata in the store does not verify (${why}); nothing was signed on top of it`,
  );
};

function check(channel: string, what: string, verify: () => void): void {
  try {
    verify();
  } catch (error) {
    refuse(channel, `${what}: ${(error as Error).message}`);
  }
}

/**
 * Checks `bytes` as root `version` of `channel`: root 1 must be signed by a threshold of its own
 * root keys, all of them mounted signers (`signerKeyIDs`); a later root by a threshold of the
 * previous root's keys and of its own, as TUF clients require. Returns the parsed root.
 */
export function verifyStoredRoot(
  channel: string,
  version: number,
  bytes: Uint8Array,
  previous: Metadata<Root> | undefined,
  signerKeyIDs: ReadonlySet<string>,
): Metadata<Root> {
  let root: Metadata<Root> | undefined;
  check(channel, `root ${version}`, () => {
    root = readMetadata<Root>(MetadataKind.Root, bytes);
  });
  const next = root as Metadata<Root>;
  if (next.signed.version !== version)
    refuse(channel, `root/${version}.json holds version ${next.signed.version}`);
  if (version > 1) {
    if (!previous) return refuse(channel, `root ${version} without a trusted root ${version - 1}`);
    check(channel, `root ${version} by root ${version - 1}`, () =>
      previous.verifyDelegate(MetadataKind.Root, next),
    );
  } else {
    const stray = (next.signed.roles[MetadataKind.Root]?.keyIDs ?? []).filter((id) => !signerKeyIDs.has(id));
    if (stray.length > 0)
      refuse(channel, `root 1 trusts keys that are not the mounted signers (${stray.join(', ')})`);
  }
  check(channel, `root ${version}`, () => next.verifyDelegate(MetadataKind.Root, next));
  return next;
}

/**
 * Checks a channel's current release as a client would, against its latest root: the timestamp,
 * the snapshot it names (hash and signature), the targets the snapshot names (hash and
 * signature). A channel with no release yet passes. PDK_RELEASE_SIGNATURE otherwise.
 */
export function verifyStoredRelease(
  channel: string,
  root: Metadata<Root>,
  read: (path: string) => Uint8Array | undefined,
): void {
  const timestampBytes = read('timestamp.json');
  if (!timestampBytes) return;
  const load = <T extends Timestamp | Snapshot | Targets>(
    kind: MetadataKind,
    path: string,
    meta?: MetaFile,
  ) => {
    const bytes = read(path);
    if (!bytes) return refuse(channel, `${path} is missing`);
    if (meta) check(channel, `${path} against its parent`, () => meta.verify(Buffer.from(bytes)));
    let metadata: Metadata<T> | undefined;
    check(channel, path, () => {
      metadata = readMetadata<T>(kind, bytes);
      root.verifyDelegate(kind, metadata);
    });
    return metadata as Metadata<T>;
  };
  const timestamp = load<Timestamp>(MetadataKind.Timestamp, 'timestamp.json');
  const snapshotMeta = timestamp.signed.snapshotMeta;
  const snapshot = load<Snapshot>(
    MetadataKind.Snapshot,
    `${snapshotMeta.version}.snapshot.json`,
    snapshotMeta,
  );
  if (snapshot.signed.version !== snapshotMeta.version)
    refuse(channel, 'the snapshot is not the version named');
  const targetsMeta = snapshot.signed.meta['targets.json'];
  if (!targetsMeta) throw refuse(channel, 'the snapshot names no targets');
  const targets = load<Targets>(MetadataKind.Targets, `${targetsMeta.version}.targets.json`, targetsMeta);
  if (targets.signed.version !== targetsMeta.version)
    refuse(channel, 'the targets are not the version named');
}
