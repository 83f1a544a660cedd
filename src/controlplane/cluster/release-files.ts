import { dnsLabel } from '../../config/schema/common.ts';
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { PaddockError } from '../../core/errors.ts';

// The release repository's files in the shared store (migration 0005-policy-releases): each
// channel's TUF metadata by path, and the bundles by the SHA-256 of their bytes. Plain reads and
// writes; what is written when (and under which leader term) is release-mirror.ts's concern.
// The rows are untrusted storage: supervisors verify every file against the root they pin.

/** Anything that runs a query: the pool, or a client inside a fenced transaction. */
type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

/** A metadata file's key: `CHANNEL/PATH` (PATH as the repository names it, e.g. `root/1.json`). */
export type MetadataKey = `${string}/${string}`;

export function metadataKey(channel: string, path: string): MetadataKey {
  return `${channel}/${path}`;
}

/** What the store holds: each metadata file's SHA-256, and the hashes of the stored bundles. */
export interface ReleaseFilesIndex {
  readonly metadata: ReadonlyMap<MetadataKey, string>;
  readonly blobs: ReadonlySet<string>;
}

/** A change to write: metadata files to put, metadata files to delete, bundles to add. */
export interface ReleaseFilesChange {
  readonly put: ReadonlyMap<MetadataKey, { readonly sha256: string; readonly content: Uint8Array }>;
  readonly remove: readonly MetadataKey[];
  readonly blobs: ReadonlyMap<string, Uint8Array>;
}

/** Whether `name` may be a release channel (a DNS label, as paddock.yaml requires): never a path. */
export function isChannelName(name: string): boolean {
  return dnsLabel.safeParse(name).success;
}

/**
 * The channels the store holds metadata for (those with a first root), sorted. Rows are
 * untrusted: a name that is not a channel name (`../x`) is left out, never made a directory.
 */
export async function readReleaseChannels(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ channel: string }>(
    "SELECT DISTINCT channel FROM release_metadata WHERE path = 'root/1.json' ORDER BY channel",
  );
  return rows.map((row) => row.channel).filter(isChannelName);
}

/** The index of the channels' files (contents are read separately, only those that changed). */
export async function readReleaseIndex(
  db: Queryable,
  channels: readonly string[],
): Promise<ReleaseFilesIndex> {
  const metadata = await db.query<{ channel: string; path: string; sha256: string }>(
    'SELECT channel, path, sha256 FROM release_metadata WHERE channel = ANY($1::text[])',
    [channels],
  );
  const blobs = await db.query<{ sha256: string }>('SELECT sha256 FROM release_blobs');
  return {
    metadata: new Map(metadata.rows.map((row) => [metadataKey(row.channel, row.path), row.sha256])),
    blobs: new Set(blobs.rows.map((row) => row.sha256)),
  };
}

/** The contents of some metadata files (a key the store lacks is absent from the answer). */
export async function readMetadataFiles(
  db: Queryable,
  keys: readonly MetadataKey[],
): Promise<Map<MetadataKey, { sha256: string; content: Uint8Array }>> {
  if (keys.length === 0) return new Map();
  const { rows } = await db.query<{ channel: string; path: string; sha256: string; content: Buffer }>(
    `SELECT channel, path, sha256, content FROM release_metadata WHERE channel || '/' || path = ANY($1::text[])`,
    [keys],
  );
  return new Map(
    rows.map((row) => [
      metadataKey(row.channel, row.path),
      { sha256: row.sha256, content: new Uint8Array(row.content) },
    ]),
  );
}

/** The bytes of some bundles, by hash. */
export async function readBlobs(db: Queryable, hashes: readonly string[]): Promise<Map<string, Uint8Array>> {
  if (hashes.length === 0) return new Map();
  const { rows } = await db.query<{ sha256: string; content: Buffer }>(
    'SELECT sha256, content FROM release_blobs WHERE sha256 = ANY($1::text[])',
    [hashes],
  );
  return new Map(rows.map((row) => [row.sha256, new Uint8Array(row.content)]));
}

/**
 * What a writer that is not the leader read before changing it: every metadata file of
 * `channels` by hash. The write happens only if the store still holds exactly these rows.
 */
export interface ExpectedReleaseFiles {
  readonly channels: readonly string[];
  readonly metadata: ReadonlyMap<MetadataKey, string>;
}

// Every write takes this transaction-level lock first, so writers (the leader's fenced release,
// `paddock policy cosign` against the store) go one at a time and an `expected` check sees the
// last committed write.
const WRITE_LOCK_KEY = createHash('sha256')
  .update('paddock-release-files')
  .digest()
  .readBigInt64BE(0)
  .toString();

/**
 * Writes a change (call inside a transaction: a release is all of it or none; the leader's is
 * fenced by its term). With `expected`, PDK_RELEASE_CONFLICT (nothing written) unless those
 * channels' rows are still the ones read: optimistic concurrency for a writer without a term.
 */
export async function writeReleaseFiles(
  tx: Queryable,
  change: ReleaseFilesChange,
  now: number,
  expected?: ExpectedReleaseFiles,
): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK_KEY]);
  if (expected) {
    const { metadata } = await readReleaseIndex(tx, expected.channels);
    const changed = [...new Set([...metadata.keys(), ...expected.metadata.keys()])]
      .filter((key) => metadata.get(key) !== expected.metadata.get(key))
      .sort();
    if (changed.length > 0)
      throw new PaddockError(
        'PDK_RELEASE_CONFLICT',
        `the release files in the store changed since they were read (${changed.join(', ')}): nothing was written; run it again on what the store holds now`,
      );
  }
  for (const [sha256, content] of change.blobs)
    await tx.query(
      'INSERT INTO release_blobs (sha256, content, created_at) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING',
      [sha256, Buffer.from(content), now],
    );
  for (const [key, file] of change.put) {
    const [channel, path] = splitKey(key);
    await tx.query(
      `INSERT INTO release_metadata (channel, path, sha256, content, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (channel, path) DO UPDATE SET sha256 = EXCLUDED.sha256, content = EXCLUDED.content,
         updated_at = EXCLUDED.updated_at`,
      [channel, path, file.sha256, Buffer.from(file.content), now],
    );
  }
  for (const key of change.remove) {
    const [channel, path] = splitKey(key);
    await tx.query('DELETE FROM release_metadata WHERE channel = $1 AND path = $2', [channel, path]);
  }
}

/**
 * Stores a file only if the store has none at its path; true when this one was stored. A
 * channel's first root is written so by whichever replica starts first: every replica then
 * reads that one back, so all of them hand new workspaces the same trust anchor.
 */
export async function insertMetadataIfAbsent(
  db: Queryable,
  key: MetadataKey,
  file: { readonly sha256: string; readonly content: Uint8Array },
  now: number,
): Promise<boolean> {
  const [channel, path] = splitKey(key);
  const result = await db.query(
    `INSERT INTO release_metadata (channel, path, sha256, content, updated_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (channel, path) DO NOTHING`,
    [channel, path, file.sha256, Buffer.from(file.content), now],
  );
  return result.rowCount === 1;
}

function splitKey(key: MetadataKey): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}
