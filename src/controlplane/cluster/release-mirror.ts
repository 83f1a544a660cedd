import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { createLogger } from '../../core/log.ts';
import {
  isChannelName,
  type MetadataKey,
  metadataKey,
  type ReleaseFilesChange,
  readBlobs,
  readMetadataFiles,
  readReleaseIndex,
} from './release-files.ts';

// A replica's copy of the release repository the store holds. The repository code
// (releases/release-repository.ts) and the endpoint supervisors fetch from read files; on a
// cluster those files live in the store and each replica keeps them under its emptyDir
// (DATA_DIR/releases), the same layout `paddock up` uses, brought up to date by `pull` (only the
// files whose hash changed). The store is the record: anything local it lacks is deleted (an
// unpublished write of a deposed leader, a withdrawn pending release). On the leader, what the
// repository wrote locally becomes `localChange()`, written to the store in its fenced
// transaction, then `accept`ed.
//
// Consistent snapshots make a pull safe to serve from while it runs: files are renamed into
// place and each channel's timestamp.json (what makes a release visible) is written last.

export interface ReleaseMirrorOptions {
  readonly pool: pg.Pool;
  /** The repository directory (DATA_DIR/releases). */
  readonly dir: string;
  /** The channels mirrored (paddock.yaml spec.releases.channels). */
  readonly channels: readonly string[];
  /**
   * Throws unless `bytes` may become root `version` of `channel` (`previous`: root version - 1
   * as held here). A refused root is not written: new workspaces are handed the latest root.
   */
  readonly verifyRoot: (
    channel: string,
    version: number,
    bytes: Uint8Array,
    previous: Uint8Array | undefined,
  ) => void;
}

const log = createLogger('releases');

/** The metadata files a channel directory holds (root/N.json and the top-level *.json). */
const METADATA_FILE = /^(?:[1-9][0-9]{0,8}\.(?:snapshot|targets)|timestamp|pending\.targets)\.json$/;
const ROOT_FILE = /^[1-9][0-9]{0,8}\.json$/;
const BLOB_FILE = /^[0-9a-f]{64}$/;

export class ReleaseMirror {
  readonly #options: ReleaseMirrorOptions;
  /** What the local directory holds, as of the last pull or accepted change. */
  readonly #known = new Map<MetadataKey, string>();
  readonly #knownBlobs = new Set<string>();
  readonly #refusedRoots = new Set<MetadataKey>();
  /** Bundles whose stored bytes do not hash to their name: logged once each, never written. */
  readonly #refusedBlobs = new Set<string>();

  constructor(options: ReleaseMirrorOptions) {
    this.#options = options;
    mkdirSync(join(options.dir, 'blobs'), { recursive: true, mode: 0o700 });
    this.invalidate();
  }

  /**
   * Forgets what was synced: the next pull compares every file (after a failed write). Local
   * bundles count as stored only once the store lists them, so one written by a refused
   * release is written to the store with the next release that uses it.
   */
  invalidate(): void {
    this.#known.clear();
    this.#knownBlobs.clear();
    this.#refusedRoots.clear();
  }

  /** The store's roots this copy refused (verifyRoot threw), as `CHANNEL/root/N.json`. */
  get refusedRoots(): readonly MetadataKey[] {
    return [...this.#refusedRoots];
  }

  /** Each metadata file as of the last pull or accepted change, by hash: what a write back expects. */
  get synced(): ReadonlyMap<MetadataKey, string> {
    return new Map(this.#known);
  }

  /** Makes the local files what the store holds; returns the channels whose files changed. */
  async pull(): Promise<Set<string>> {
    const { pool, channels } = this.#options;
    const index = await readReleaseIndex(pool, channels);
    // Rows are untrusted: a name that is not a repository file never becomes a local path.
    const metadata = new Map([...index.metadata].filter(([key]) => isMetadataKey(key)));
    const missingBlobs: string[] = [];
    for (const hash of index.blobs) {
      if (!BLOB_FILE.test(hash) || this.#knownBlobs.has(hash)) continue;
      // A bundle already here (content-addressed, checked) is not fetched again.
      const local = join(this.#options.dir, 'blobs', hash);
      if (existsSync(local) && sha256Of(readFileSync(local)) === hash) this.#knownBlobs.add(hash);
      else missingBlobs.push(hash);
    }
    for (const [hash, content] of await readBlobs(pool, missingBlobs)) {
      // Content-addressed: a row whose bytes are not its name is never written (the supervisor
      // would refuse it too, but a copy serves only what the store's index promises).
      if (sha256Of(content) !== hash) {
        if (!this.#refusedBlobs.has(hash))
          log.error({ sha256: hash }, 'a bundle in the store does not match its hash: not written');
        this.#refusedBlobs.add(hash);
        continue;
      }
      this.#refusedBlobs.delete(hash);
      this.#write(join(this.#options.dir, 'blobs', hash), content);
      this.#knownBlobs.add(hash);
    }
    const stale = [...metadata]
      .filter(([key, sha256]) => this.#known.get(key) !== sha256)
      .map(([key]) => key);
    const fetched = await readMetadataFiles(pool, stale);
    const changed = new Set<string>();
    // Roots first, in version order (each is checked against the one before), the timestamp
    // last: it is what points a supervisor at the rest.
    const order = [...fetched].sort(([a], [b]) => rank(a) - rank(b));
    for (const [key, file] of order) {
      if (!metadata.has(key)) continue;
      const version = rootVersion(key);
      if (version !== undefined) {
        const channel = channelOf(key);
        const previous = join(this.#options.dir, 'channels', channel, 'root', `${version - 1}.json`);
        try {
          this.#options.verifyRoot(
            channel,
            version,
            file.content,
            version > 1 && existsSync(previous) ? readFileSync(previous) : undefined,
          );
        } catch (error) {
          // Remembered as seen (logged once per change of the row), never written.
          this.#known.set(key, file.sha256);
          this.#refusedRoots.add(key);
          log.error({ channel, version, error: (error as Error).message }, 'a root in the store was refused');
          continue;
        }
      }
      this.#refusedRoots.delete(key);
      this.#write(this.#pathOf(key), file.content);
      this.#known.set(key, file.sha256);
      changed.add(channelOf(key));
    }
    for (const key of this.#localKeys())
      if (!metadata.has(key)) {
        rmSync(this.#pathOf(key), { force: true });
        this.#known.delete(key);
        changed.add(channelOf(key));
      }
    return changed;
  }

  /** What the repository wrote locally since the last sync: what the leader writes to the store. */
  localChange(): ReleaseFilesChange {
    const put = new Map<MetadataKey, { sha256: string; content: Uint8Array }>();
    const present = new Set<MetadataKey>();
    for (const key of this.#localKeys()) {
      present.add(key);
      const content = readFileSync(this.#pathOf(key));
      const sha256 = sha256Of(content);
      if (this.#known.get(key) !== sha256) put.set(key, { sha256, content: new Uint8Array(content) });
    }
    const remove = [...this.#known.keys()].filter((key) => !present.has(key));
    const blobs = new Map<string, Uint8Array>();
    for (const name of readdirSync(join(this.#options.dir, 'blobs')))
      if (BLOB_FILE.test(name) && !this.#knownBlobs.has(name))
        blobs.set(name, new Uint8Array(readFileSync(join(this.#options.dir, 'blobs', name))));
    return { put, remove, blobs };
  }

  /** Records a change as stored (after its transaction committed). */
  accept(change: ReleaseFilesChange): void {
    for (const [key, file] of change.put) this.#known.set(key, file.sha256);
    for (const key of change.remove) this.#known.delete(key);
    for (const hash of change.blobs.keys()) this.#knownBlobs.add(hash);
  }

  /** The local metadata file of a key (`CHANNEL/PATH`). */
  #pathOf(key: MetadataKey): string {
    return join(this.#options.dir, 'channels', key);
  }

  *#localKeys(): Generator<MetadataKey> {
    for (const channel of this.#options.channels) {
      // Where a name becomes a directory: only a channel name, whoever passed it.
      if (!isChannelName(channel)) continue;
      const dir = join(this.#options.dir, 'channels', channel);
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) if (METADATA_FILE.test(name)) yield metadataKey(channel, name);
      if (!existsSync(join(dir, 'root'))) continue;
      for (const name of readdirSync(join(dir, 'root')))
        if (ROOT_FILE.test(name)) yield metadataKey(channel, `root/${name}`);
    }
  }

  #write(path: string, content: Uint8Array): void {
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    const temporary = `${path}.${process.pid}.mirror.tmp`;
    writeFileSync(temporary, content, { mode: 0o600 });
    renameSync(temporary, path);
  }
}

export function sha256Of(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

function channelOf(key: MetadataKey): string {
  return key.slice(0, key.indexOf('/'));
}

/** `CHANNEL/NAME` or `CHANNEL/root/N.json`, NAME a metadata file: nothing that leaves the channel's directory. */
function isMetadataKey(key: MetadataKey): boolean {
  const [channel, ...rest] = key.split('/');
  if (!channel || !isChannelName(channel)) return false;
  if (rest.length === 1) return METADATA_FILE.test(rest[0] as string);
  return rest.length === 2 && rest[0] === 'root' && ROOT_FILE.test(rest[1] as string);
}

/** The version of a root's key, undefined for other files. */
function rootVersion(key: MetadataKey): number | undefined {
  const match = /\/root\/([1-9][0-9]*)\.json$/.exec(key);
  return match ? Number(match[1]) : undefined;
}

/** Write order: roots by version, then the rest, the timestamp last. */
function rank(key: MetadataKey): number {
  const version = rootVersion(key);
  if (version !== undefined) return version - 1_000_000_000;
  return key.endsWith('/timestamp.json') ? 1 : 0;
}
