import { createHash } from 'node:crypto';
import {
  Metadata,
  MetadataKind,
  type Root,
  type Snapshot,
  type Targets,
  type Timestamp,
} from '@tufjs/models';
import { PaddockError } from '../../core/index.ts';

// The TUF client workflow (TUF specification 1.0, §5 "Detailed client workflow"), verifying a
// release channel's metadata as it arrives over the workspace channel. Each step is the spec's:
//   5.2/5.3  the root chain: root N+1 must be signed by a threshold of root N's keys AND of
//            its own, carry exactly version N+1; the final root must not be expired;
//   5.4      timestamp: threshold signature, version never lower than the trusted one, the
//            snapshot version it names never lower either, not expired;
//   5.5      snapshot: length and hashes as the timestamp recorded, threshold signature, the
//            version the timestamp named, no targets version lower than trusted, not expired;
//   5.6      targets: length and hashes as the snapshot recorded, threshold signature, the
//            version the snapshot named, not expired;
//   5.7      a target: at most its recorded length, and its hash.
// Every fetch has a size limit (endless data). Trusted metadata is persisted after each step
// by the caller (`TrustedMetadataStore`), so a restart cannot be rolled back either.
//
//   refreshChannel(trusted, fetch, options): Promise<RefreshResult>   verifies; never mutates `trusted` on failure
//   fetchTarget(targets, name, fetch): Promise<{ bytes, info }>       verifies length and sha256
// Errors: PDK_RELEASE_SIGNATURE | _ROLLBACK | _EXPIRED | _MISMATCH | _TOO_LARGE | _FETCH.

/** Fetches one file of the channel's repository; undefined when it does not exist. Must not return more than maxBytes + 1 bytes. */
export type ReleaseFetch = (path: string, maxBytes: number) => Promise<Uint8Array | undefined>;

/** Size limits, bytes. Defaults follow the spec's reference client (root 512 KiB, timestamp 16 KiB, snapshot and targets 2 MiB). */
export interface ReleaseSizeLimits {
  readonly rootBytes: number;
  readonly timestampBytes: number;
  readonly snapshotBytes: number;
  readonly targetsBytes: number;
}

export const DEFAULT_SIZE_LIMITS: ReleaseSizeLimits = {
  rootBytes: 512 * 1024,
  timestampBytes: 16 * 1024,
  snapshotBytes: 2 * 1024 * 1024,
  targetsBytes: 2 * 1024 * 1024,
};

/** Most root versions one refresh walks (the spec's MAX_ROOT_ROTATIONS). */
export const MAX_ROOT_ROTATIONS = 32;

/** The metadata a client trusts: root always, the others once a refresh has verified them. */
export interface TrustedMetadata {
  readonly root: Metadata<Root>;
  readonly timestamp?: Metadata<Timestamp>;
  readonly snapshot?: Metadata<Snapshot>;
  readonly targets?: Metadata<Targets>;
}

export interface RefreshOptions {
  /** The update's fixed start time (spec 5.1). Default now. */
  readonly now?: Date;
  readonly limits?: ReleaseSizeLimits;
}

/** A verified refresh: the new trusted set, and the raw bytes of each role to persist. */
export interface RefreshResult {
  readonly trusted: Required<TrustedMetadata>;
  /** Raw bytes per role file that changed (`root`, `timestamp`, `snapshot`, `targets`). */
  readonly changed: Partial<Record<'root' | 'timestamp' | 'snapshot' | 'targets', Uint8Array>>;
}

/** Parses a metadata file of `kind`; PDK_RELEASE_MISMATCH when it is not one. */
export function parseMetadata<K extends MetadataKind>(kind: K, bytes: Uint8Array): Metadata<KindType<K>> {
  try {
    const json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return Metadata.fromJSON(kind as MetadataKind.Root, json) as unknown as Metadata<KindType<K>>;
  } catch (error) {
    throw new PaddockError(
      'PDK_RELEASE_MISMATCH',
      `${kind} metadata does not parse: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

type KindType<K> = K extends MetadataKind.Root
  ? Root
  : K extends MetadataKind.Timestamp
    ? Timestamp
    : K extends MetadataKind.Snapshot
      ? Snapshot
      : Targets;

/**
 * Runs the client workflow against one channel. Resolves with the new trusted metadata, or
 * rejects with a coded error and leaves `trusted` as it was (the caller keeps its bundle).
 */
export async function refreshChannel(
  trusted: TrustedMetadata,
  fetch: ReleaseFetch,
  options: RefreshOptions = {},
): Promise<RefreshResult> {
  const now = options.now ?? new Date();
  const limits = options.limits ?? DEFAULT_SIZE_LIMITS;
  const changed: RefreshResult['changed'] = {};

  // 5.3 the root chain.
  let root = trusted.root;
  let rootRotated = false;
  for (let step = 0; step < MAX_ROOT_ROTATIONS; step++) {
    const nextVersion = root.signed.version + 1;
    const bytes = await fetchLimited(fetch, `root/${nextVersion}.json`, limits.rootBytes, true);
    if (bytes === undefined) break;
    const next = parseMetadata(MetadataKind.Root, bytes);
    verifyRole(root, MetadataKind.Root, next, `root version ${nextVersion} (by the trusted root)`);
    verifyRole(next, MetadataKind.Root, next, `root version ${nextVersion} (by itself)`);
    if (next.signed.version !== nextVersion)
      throw new PaddockError(
        'PDK_RELEASE_ROLLBACK',
        `root/${nextVersion}.json carries version ${next.signed.version}, expected ${nextVersion}`,
      );
    root = next;
    rootRotated = true;
    changed.root = bytes;
  }
  if (root.signed.isExpired(now))
    throw new PaddockError(
      'PDK_RELEASE_EXPIRED',
      `root version ${root.signed.version} expired at ${root.signed.expires}`,
    );
  // A rotated root may have replaced the timestamp or snapshot keys: old metadata signed by the
  // old keys is then no longer trusted as the rollback baseline (spec 5.3.11).
  let baseTimestamp = trusted.timestamp;
  let baseSnapshot = trusted.snapshot;
  let baseTargets = trusted.targets;
  if (rootRotated) {
    if (baseTimestamp && !signedBy(root, MetadataKind.Timestamp, baseTimestamp)) {
      baseTimestamp = undefined;
      baseSnapshot = undefined;
    }
    if (baseSnapshot && !signedBy(root, MetadataKind.Snapshot, baseSnapshot)) baseSnapshot = undefined;
    if (baseTargets && !signedBy(root, MetadataKind.Targets, baseTargets)) baseTargets = undefined;
  }

  // 5.4 timestamp.
  const timestampBytes = await fetchLimited(fetch, 'timestamp.json', limits.timestampBytes);
  const timestamp = parseMetadata(MetadataKind.Timestamp, timestampBytes as Uint8Array);
  verifyRole(root, MetadataKind.Timestamp, timestamp, 'timestamp');
  if (baseTimestamp) {
    if (timestamp.signed.version < baseTimestamp.signed.version)
      throw new PaddockError(
        'PDK_RELEASE_ROLLBACK',
        `timestamp version ${timestamp.signed.version} is lower than the trusted ${baseTimestamp.signed.version}`,
      );
    if (timestamp.signed.snapshotMeta.version < baseTimestamp.signed.snapshotMeta.version)
      throw new PaddockError(
        'PDK_RELEASE_ROLLBACK',
        `timestamp names snapshot version ${timestamp.signed.snapshotMeta.version}, lower than the trusted ${baseTimestamp.signed.snapshotMeta.version}`,
      );
  }
  if (timestamp.signed.isExpired(now))
    throw new PaddockError(
      'PDK_RELEASE_EXPIRED',
      `timestamp version ${timestamp.signed.version} expired at ${timestamp.signed.expires} (freeze attack or a stalled release service)`,
    );
  const sameTimestamp =
    baseTimestamp !== undefined &&
    timestamp.signed.version === baseTimestamp.signed.version &&
    baseSnapshot !== undefined &&
    baseTargets !== undefined;
  if (!sameTimestamp || changed.root) changed.timestamp = timestampBytes as Uint8Array;

  // 5.5 snapshot.
  let snapshot = baseSnapshot;
  const snapshotMeta = timestamp.signed.snapshotMeta;
  if (!sameTimestamp || !snapshot || snapshot.signed.version !== snapshotMeta.version) {
    const path = root.signed.consistentSnapshot ? `${snapshotMeta.version}.snapshot.json` : 'snapshot.json';
    const bytes = await fetchLimited(fetch, path, snapshotMeta.length ?? limits.snapshotBytes);
    checkMetaFile('snapshot', snapshotMeta, bytes as Uint8Array);
    const next = parseMetadata(MetadataKind.Snapshot, bytes as Uint8Array);
    verifyRole(root, MetadataKind.Snapshot, next, 'snapshot');
    if (next.signed.version !== snapshotMeta.version)
      throw new PaddockError(
        'PDK_RELEASE_MISMATCH',
        `snapshot carries version ${next.signed.version}, the timestamp names ${snapshotMeta.version} (mix-and-match)`,
      );
    if (baseSnapshot) {
      for (const [role, old] of Object.entries(baseSnapshot.signed.meta)) {
        const now = next.signed.meta[role];
        if (!now)
          throw new PaddockError(
            'PDK_RELEASE_ROLLBACK',
            `the new snapshot drops ${role}, which the trusted one lists`,
          );
        if (now.version < old.version)
          throw new PaddockError(
            'PDK_RELEASE_ROLLBACK',
            `the new snapshot lists ${role} version ${now.version}, lower than the trusted ${old.version}`,
          );
      }
    }
    snapshot = next;
    changed.snapshot = bytes as Uint8Array;
  }
  if (snapshot.signed.isExpired(now))
    throw new PaddockError(
      'PDK_RELEASE_EXPIRED',
      `snapshot version ${snapshot.signed.version} expired at ${snapshot.signed.expires}`,
    );

  // 5.6 targets.
  const targetsMeta = snapshot.signed.meta['targets.json'];
  if (!targetsMeta) throw new PaddockError('PDK_RELEASE_MISMATCH', 'the snapshot does not list targets.json');
  let targets = baseTargets;
  if (!targets || targets.signed.version !== targetsMeta.version) {
    const path = root.signed.consistentSnapshot ? `${targetsMeta.version}.targets.json` : 'targets.json';
    const bytes = await fetchLimited(fetch, path, targetsMeta.length ?? limits.targetsBytes);
    checkMetaFile('targets', targetsMeta, bytes as Uint8Array);
    const next = parseMetadata(MetadataKind.Targets, bytes as Uint8Array);
    verifyRole(root, MetadataKind.Targets, next, 'targets');
    if (next.signed.version !== targetsMeta.version)
      throw new PaddockError(
        'PDK_RELEASE_MISMATCH',
        `targets carries version ${next.signed.version}, the snapshot names ${targetsMeta.version} (mix-and-match)`,
      );
    targets = next;
    changed.targets = bytes as Uint8Array;
  }
  if (targets.signed.isExpired(now))
    throw new PaddockError(
      'PDK_RELEASE_EXPIRED',
      `targets version ${targets.signed.version} expired at ${targets.signed.expires}`,
    );
  return { trusted: { root, timestamp, snapshot, targets }, changed };
}

/** Fetches and verifies one target named in verified targets metadata (spec 5.7). */
export async function fetchTarget(
  targets: Metadata<Targets>,
  name: string,
  fetch: ReleaseFetch,
  consistent = true,
): Promise<Uint8Array> {
  const info = targets.signed.targets[name];
  if (!info) throw new PaddockError('PDK_RELEASE_FETCH', `the channel's targets list no ${name}`);
  const sha256 = info.hashes['sha256'];
  if (!sha256) throw new PaddockError('PDK_RELEASE_MISMATCH', `target ${name} has no sha256 hash`);
  const path = consistent ? `targets/${sha256}.${name}` : `targets/${name}`;
  const bytes = (await fetchLimited(fetch, path, info.length)) as Uint8Array;
  if (bytes.byteLength !== info.length)
    throw new PaddockError(
      'PDK_RELEASE_MISMATCH',
      `target ${name} is ${bytes.byteLength} bytes, targets records ${info.length}`,
    );
  if (sha256Hex(bytes) !== sha256)
    throw new PaddockError('PDK_RELEASE_MISMATCH', `target ${name} does not have the sha256 targets records`);
  return bytes;
}

async function fetchLimited(
  fetch: ReleaseFetch,
  path: string,
  maxBytes: number,
  optional = false,
): Promise<Uint8Array | undefined> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await fetch(path, maxBytes);
  } catch (error) {
    if (error instanceof PaddockError) throw error;
    throw new PaddockError('PDK_RELEASE_FETCH', `fetching ${path} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (bytes === undefined) {
    if (optional) return undefined;
    throw new PaddockError('PDK_RELEASE_FETCH', `the control plane has no ${path}`);
  }
  // The fetcher is not trusted to enforce the limit: check again here.
  if (bytes.byteLength > maxBytes)
    throw new PaddockError('PDK_RELEASE_TOO_LARGE', `${path} exceeds its limit of ${maxBytes} bytes`);
  return bytes;
}

function checkMetaFile(
  role: string,
  meta: { length?: number; hashes?: Record<string, string> },
  bytes: Uint8Array,
): void {
  if (meta.length !== undefined && bytes.byteLength !== meta.length)
    throw new PaddockError(
      'PDK_RELEASE_MISMATCH',
      `${role} is ${bytes.byteLength} bytes, its parent records ${meta.length}`,
    );
  const expected = meta.hashes?.['sha256'];
  if (expected !== undefined && sha256Hex(bytes) !== expected)
    throw new PaddockError(
      'PDK_RELEASE_MISMATCH',
      `${role} does not have the sha256 its parent records (mix-and-match)`,
    );
}

function verifyRole(
  root: Metadata<Root>,
  role: MetadataKind,
  metadata: Metadata<Root | Timestamp | Snapshot | Targets>,
  what: string,
): void {
  try {
    root.verifyDelegate(role, metadata);
  } catch (error) {
    throw new PaddockError('PDK_RELEASE_SIGNATURE', `${what}: ${(error as Error).message}`, { cause: error });
  }
}

function signedBy(
  root: Metadata<Root>,
  role: MetadataKind,
  metadata: Metadata<Timestamp | Snapshot | Targets>,
): boolean {
  try {
    root.verifyDelegate(role, metadata);
    return true;
  } catch {
    return false;
  }
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
