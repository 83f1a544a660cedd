import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Key,
  Metadata,
  MetadataKind,
  MetaFile,
  Root,
  Snapshot,
  TargetFile,
  Targets,
  Timestamp,
} from '@tufjs/models';
import { PaddockError } from '../../core/index.ts';
import { expiresIn, metadataBytes, readMetadata, signMetadata } from './metadata.ts';
import { ensureFileSigner, type Signer } from './signer.ts';

// The policy release repository: one TUF repository per channel (canary, stable, …), each with
// its own root, so a channel's keys and threshold are its own and a supervisor that trusts the
// stable root can never be fed canary metadata. Bundles are stored once, by hash (`blobs/`), and
// every channel's targets metadata points at them: promotion re-signs the same hash into the
// next channel's targets, it never copies or rebuilds a bundle.
//
// Roles: root and targets are signed by the channel's signers (threshold from paddock.yaml,
// so stable can need two people); snapshot and timestamp by the channel's online key, held by
// the control plane, which re-signs the timestamp before it expires (`refreshTimestamps`).
// Consistent snapshots: metadata is stored as `N.targets.json`, `N.snapshot.json`, targets as
// `targets/HASH.NAME`, so a supervisor never mixes two releases mid-publish. A release becomes
// visible only when `timestamp.json` is renamed into place (last), so a crash mid-release leaves
// the previous release in force and the retry rewrites the same versions.
//
// Where: DATA_DIR/releases (files, not the SQL store): TUF metadata is a set of static files
// served verbatim, and keeping them as files lets them be mirrored or backed up as they are.
// One writer at a time (the reconciler); readers (the channel server) only read.
//
// Public API (stable; the reconciler calls these):
//   openReleaseRepository(options: ReleaseRepositoryOptions): ReleaseRepository
//   repo.release({ channel, bundles, signers }): Promise<ReleaseOutcome>
//   repo.promote({ from, to, signers, names? }): Promise<ReleaseOutcome>
//   repo.cosign({ channel, signers }): Promise<ReleaseOutcome>
//   repo.status(channel): ChannelStatus            repo.channels(): ChannelStatus[]
//   repo.readFile(channel, path): Uint8Array | undefined   (what the channel server serves)
//   repo.trustedRoot(channel): Uint8Array           (pinned into a new workspace)
//   repo.defaultSigners(channel): Signer[]          (the embedded default's key files)
//   repo.refreshTimestamps(): Promise<string[]>     (call on a timer, e.g. hourly)
//   repo.rotateRoot({ channel, signers, newSigners, threshold }): Promise<number>

/** A channel as paddock.yaml declares it (`spec.releases.channels[]`). */
export interface ChannelSettings {
  readonly name: string;
  /** Distinct signers the channel's root and targets need. */
  readonly threshold: number;
}

/** Metadata lifetimes, seconds. Defaults: root 365 d, targets 90 d, snapshot 7 d, timestamp 1 d. */
export interface MetadataLifetimes {
  readonly rootSeconds: number;
  readonly targetsSeconds: number;
  readonly snapshotSeconds: number;
  readonly timestampSeconds: number;
}

export interface ReleaseRepositoryOptions {
  /** The repository directory, normally DATA_DIR/releases. Created (0700) when missing. */
  readonly dir: string;
  /** Channels in promotion order, e.g. [{ name: 'canary', threshold: 1 }, { name: 'stable', threshold: 2 }]. */
  readonly channels: readonly ChannelSettings[];
  /** Clock. Default: the system clock. */
  readonly now?: () => Date;
  readonly lifetimes?: Partial<MetadataLifetimes>;
  /**
   * The online key of a channel (signs snapshot and timestamp). Default: the Ed25519 file
   * `keys/CHANNEL/online.pem`, created when missing. A KMS-backed deployment passes its own.
   */
  readonly onlineSigner?: (channel: string) => Signer;
  /**
   * The signers a new channel's first root is signed with and whose keys it trusts. Default:
   * `threshold` Ed25519 files `keys/CHANNEL/signer-N.pem`, created when missing.
   */
  readonly initialSigners?: (channel: ChannelSettings) => readonly Signer[];
  /** Create missing channels (keys and first root). Default true; false for read-only use (`paddock policy status`). */
  readonly initialize?: boolean;
}

/** One compiled bundle to release: the blueprint it belongs to and its canonical bytes. */
export interface BundleToRelease {
  /** The blueprint name; the TUF target is `NAME.json`. */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** What supervisors attest and events carry (copied into the target's custom field). */
  readonly bundle: { readonly id: string; readonly version: string; readonly commit: string };
}

/** A target of a channel's current release. */
export interface ReleasedTarget {
  readonly name: string;
  readonly sha256: string;
  readonly length: number;
  readonly bundleId: string;
  readonly bundleVersion: string;
  readonly commit: string;
}

/** A channel's current state. */
export interface ChannelStatus {
  readonly channel: string;
  readonly threshold: number;
  readonly rootVersion: number;
  /** The release number (targets version); 0 before the first release. */
  readonly targetsVersion: number;
  readonly timestampVersion: number;
  readonly timestampExpires: string | null;
  readonly targets: readonly ReleasedTarget[];
  /** A release waiting for more signatures. */
  readonly pending: { readonly version: number; readonly signatures: number; readonly needed: number } | null;
}

/** What a release, promotion or co-signature did. */
export type ReleaseOutcome =
  | {
      readonly status: 'published';
      readonly channel: string;
      readonly version: number;
      readonly targets: readonly ReleasedTarget[];
    }
  | {
      readonly status: 'unchanged';
      readonly channel: string;
      readonly version: number;
      readonly targets: readonly ReleasedTarget[];
    }
  | {
      readonly status: 'pending';
      readonly channel: string;
      readonly version: number;
      readonly signatures: number;
      readonly needed: number;
    };

const DEFAULT_LIFETIMES: MetadataLifetimes = {
  rootSeconds: 365 * 86400,
  targetsSeconds: 90 * 86400,
  snapshotSeconds: 7 * 86400,
  timestampSeconds: 86400,
};
const SPEC_VERSION = '1.0.31';
const TARGET_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.json$/;
const SERVED = [
  /^root\/[1-9][0-9]{0,8}\.json$/,
  /^timestamp\.json$/,
  /^[1-9][0-9]{0,8}\.snapshot\.json$/,
  /^[1-9][0-9]{0,8}\.targets\.json$/,
];
const SERVED_TARGET = /^targets\/([0-9a-f]{64})\.([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.json)$/;

/**
 * Opens an existing release repository with the channels found on disk (their thresholds read
 * from their current roots). No channel is created. `onlineSigner`: the online keys, when they
 * are not the repository's own key files (a copy of a cluster's store signs with the mounted ones).
 */
export function readReleaseRepository(
  dir: string,
  options: Pick<ReleaseRepositoryOptions, 'onlineSigner'> = {},
): ReleaseRepository {
  const channelsDir = join(dir, 'channels');
  const names = existsSync(channelsDir) ? readdirSync(channelsDir).sort() : [];
  const channels = names
    .filter((name) => existsSync(join(channelsDir, name, 'root', '1.json')))
    .map((name) => {
      const rootDir = join(channelsDir, name, 'root');
      const latest = Math.max(
        ...readdirSync(rootDir).map((file) => Number(/^(\d+)\.json$/.exec(file)?.[1] ?? 0)),
      );
      const root = readMetadata<Root>(MetadataKind.Root, readFileSync(join(rootDir, `${latest}.json`)));
      return { name, threshold: root.signed.roles[MetadataKind.Targets]?.threshold ?? 1 };
    });
  return new ReleaseRepository({ dir, channels, initialize: false, ...options });
}

/** Opens (and initialises missing channels of) the release repository. */
export function openReleaseRepository(options: ReleaseRepositoryOptions): ReleaseRepository {
  return new ReleaseRepository(options);
}

export class ReleaseRepository {
  readonly #dir: string;
  readonly #channels: Map<string, ChannelSettings>;
  readonly #now: () => Date;
  readonly #life: MetadataLifetimes;
  readonly #online: (channel: string) => Signer;
  readonly #initial: (channel: ChannelSettings) => readonly Signer[];
  #ready: Promise<void>;

  constructor(options: ReleaseRepositoryOptions) {
    this.#dir = options.dir;
    this.#channels = new Map(options.channels.map((channel) => [channel.name, channel]));
    this.#now = options.now ?? (() => new Date());
    this.#life = { ...DEFAULT_LIFETIMES, ...options.lifetimes };
    this.#online = options.onlineSigner ?? ((channel) => ensureFileSigner(this.#keyFile(channel, 'online')));
    this.#initial = options.initialSigners ?? ((channel) => this.defaultSigners(channel.name));
    if (options.initialize === false) {
      this.#ready = Promise.resolve();
      return;
    }
    mkdirSync(join(this.#dir, 'blobs'), { recursive: true, mode: 0o700 });
    this.#ready = this.#initChannels();
  }

  /** Resolves once every channel has a root (call before serving). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** The embedded default's signers of a channel: `threshold` key files, created when missing. */
  defaultSigners(channel: string): Signer[] {
    const settings = this.#settings(channel);
    return Array.from({ length: settings.threshold }, (_, index) =>
      ensureFileSigner(this.#keyFile(channel, `signer-${index + 1}`)),
    );
  }

  /** The latest root of a channel: the trust anchor a new workspace is provisioned with. */
  trustedRoot(channel: string): Uint8Array {
    this.#settings(channel);
    return readFileSync(join(this.#channelDir(channel), 'root', `${this.#rootVersion(channel)}.json`));
  }

  /**
   * Releases bundles to a channel: they become the channel's whole target set (a blueprint
   * missing from `bundles` is withdrawn). Idempotent: the same bundles again change nothing.
   * With fewer signers than the threshold the release waits as pending (see `cosign`).
   */
  async release(input: {
    readonly channel: string;
    readonly bundles: readonly BundleToRelease[];
    readonly signers: readonly Signer[];
  }): Promise<ReleaseOutcome> {
    await this.#ready;
    const entries: Record<string, TargetFile> = {};
    for (const item of input.bundles) {
      const name = `${item.name}.json`;
      if (!TARGET_NAME.test(name))
        throw new PaddockError('PDK_RELEASE_BUNDLE_INVALID', `"${item.name}" is not a blueprint name`);
      const sha256 = createHash('sha256').update(item.bytes).digest('hex');
      this.#writeBlob(sha256, item.bytes);
      entries[name] = new TargetFile({
        path: name,
        length: item.bytes.byteLength,
        hashes: { sha256 },
        unrecognizedFields: {
          custom: {
            bundleId: item.bundle.id,
            bundleVersion: item.bundle.version,
            commit: item.bundle.commit,
          },
        },
      });
    }
    return this.#publishTargets(input.channel, entries, input.signers);
  }

  /**
   * Promotes the current release of `from` into `to`: the same target entries (same hashes),
   * signed by `to`'s signers. `names` limits it to some blueprints (others in `to` stay).
   */
  async promote(input: {
    readonly from: string;
    readonly to: string;
    readonly signers: readonly Signer[];
    readonly names?: readonly string[];
  }): Promise<ReleaseOutcome> {
    await this.#ready;
    const source = this.#currentTargets(input.from);
    if (!source)
      throw new PaddockError('PDK_RELEASE_CHANNEL', `channel ${input.from} has no release to promote`);
    let entries: Record<string, TargetFile> = { ...source.signed.targets };
    if (input.names) {
      const current = this.#currentTargets(input.to)?.signed.targets ?? {};
      entries = { ...current };
      for (const name of input.names) {
        const target = source.signed.targets[`${name}.json`];
        if (!target)
          throw new PaddockError('PDK_RELEASE_CHANNEL', `channel ${input.from} has no bundle for ${name}`);
        entries[`${name}.json`] = target;
      }
    }
    return this.#publishTargets(input.to, entries, input.signers);
  }

  /** Adds signatures to a channel's pending release; publishes it once the threshold is met. */
  async cosign(input: {
    readonly channel: string;
    readonly signers: readonly Signer[];
  }): Promise<ReleaseOutcome> {
    await this.#ready;
    const path = join(this.#channelDir(input.channel), 'pending.targets.json');
    if (!existsSync(path))
      throw new PaddockError(
        'PDK_RELEASE_CHANNEL',
        `channel ${input.channel} has no release waiting for signatures`,
      );
    const pending = readMetadata<Targets>(MetadataKind.Targets, readFileSync(path));
    await signMetadata(pending, input.signers);
    return this.#finishTargets(input.channel, pending);
  }

  /** Re-signs every channel's timestamp that has used half its lifetime; returns those channels. */
  async refreshTimestamps(): Promise<string[]> {
    await this.#ready;
    const refreshed: string[] = [];
    const now = this.#now();
    for (const channel of this.#channels.keys()) {
      const timestamp = this.#timestamp(channel);
      if (!timestamp) continue;
      const left = Date.parse(timestamp.signed.expires) - now.getTime();
      if (left > (this.#life.timestampSeconds * 1000) / 2) continue;
      await this.#writeTimestamp(channel, timestamp.signed.snapshotMeta, timestamp.signed.version + 1);
      refreshed.push(channel);
    }
    return refreshed;
  }

  /**
   * A new root for a channel: `newSigners` (threshold `threshold`) replace its signers. Signed by
   * the old signers (a threshold of them) and the new ones, as clients require; nothing is written
   * unless both verify. The current release is then re-signed by the new signers as the next
   * release (the same bundles), so a supervisor that moves to the new root still verifies what it
   * enforces. Returns the root's version.
   */
  async rotateRoot(input: {
    readonly channel: string;
    readonly signers: readonly Signer[];
    readonly newSigners: readonly Signer[];
    readonly threshold: number;
  }): Promise<number> {
    await this.#ready;
    const current = this.#root(input.channel);
    const online = this.#online(input.channel);
    const root = this.#newRoot(
      current.signed.version + 1,
      input.newSigners.map((signer) => signer.key),
      input.threshold,
      online.key,
    );
    await signMetadata(root, [...input.signers, ...input.newSigners]);
    this.#check(current, MetadataKind.Root, root, 'the new root (by the current signers)');
    this.#check(root, MetadataKind.Root, root, 'the new root (by the new signers)');
    this.#atomicWrite(
      join(this.#channelDir(input.channel), 'root', `${root.signed.version}.json`),
      metadataBytes(root),
    );
    const released = this.#currentTargets(input.channel);
    if (released) {
      const targets = new Metadata(
        new Targets({
          version: released.signed.version + 1,
          specVersion: SPEC_VERSION,
          expires: expiresIn(this.#now(), this.#life.targetsSeconds),
          targets: released.signed.targets,
        }),
      );
      await signMetadata(targets, input.newSigners);
      await this.#finishTargets(input.channel, targets);
    }
    return root.signed.version;
  }

  /** A channel's current release, keys and pending signatures. */
  status(channel: string): ChannelStatus {
    const settings = this.#settings(channel);
    const timestamp = this.#timestamp(channel);
    const targets = this.#currentTargets(channel);
    const pendingPath = join(this.#channelDir(channel), 'pending.targets.json');
    let pending: ChannelStatus['pending'] = null;
    if (existsSync(pendingPath)) {
      const metadata = readMetadata<Targets>(MetadataKind.Targets, readFileSync(pendingPath));
      const root = this.#root(channel);
      pending = {
        version: metadata.signed.version,
        signatures: countValid(root, MetadataKind.Targets, metadata),
        needed: root.signed.roles[MetadataKind.Targets]?.threshold ?? settings.threshold,
      };
    }
    return {
      channel,
      threshold: settings.threshold,
      rootVersion: this.#rootVersion(channel),
      targetsVersion: targets?.signed.version ?? 0,
      timestampVersion: timestamp?.signed.version ?? 0,
      timestampExpires: timestamp?.signed.expires ?? null,
      targets: targets ? releasedTargets(targets) : [],
      pending,
    };
  }

  /** Every channel's status, in promotion order. */
  channels(): ChannelStatus[] {
    return [...this.#channels.keys()].map((channel) => this.status(channel));
  }

  /**
   * A file of a channel's repository as a supervisor fetches it (`root/N.json`, `timestamp.json`,
   * `N.snapshot.json`, `N.targets.json`, `targets/HASH.NAME.json`); undefined for anything else.
   */
  readFile(channel: string, path: string): Uint8Array | undefined {
    if (!this.#channels.has(channel)) return undefined;
    const target = SERVED_TARGET.exec(path);
    const file = target
      ? join(this.#dir, 'blobs', target[1] as string)
      : SERVED.some((pattern) => pattern.test(path))
        ? join(this.#channelDir(channel), path)
        : undefined;
    if (file === undefined || !existsSync(file)) return undefined;
    return readFileSync(file);
  }

  async #initChannels(): Promise<void> {
    for (const settings of this.#channels.values()) {
      if (!Number.isInteger(settings.threshold) || settings.threshold < 1)
        throw new PaddockError(
          'PDK_RELEASE_CHANNEL',
          `channel ${settings.name} needs a threshold of at least 1`,
        );
      const rootDir = join(this.#channelDir(settings.name), 'root');
      mkdirSync(rootDir, { recursive: true, mode: 0o700 });
      if (existsSync(join(rootDir, '1.json'))) continue;
      const signers = this.#initial(settings);
      if (signers.length < settings.threshold)
        throw new PaddockError(
          'PDK_RELEASE_THRESHOLD',
          `channel ${settings.name} needs ${settings.threshold} signers for its first root, got ${signers.length}`,
        );
      const root = this.#newRoot(
        1,
        signers.map((signer) => signer.key),
        settings.threshold,
        this.#online(settings.name).key,
      );
      await signMetadata(root, signers);
      this.#atomicWrite(join(rootDir, '1.json'), metadataBytes(root));
    }
  }

  #newRoot(version: number, keys: readonly Key[], threshold: number, onlineKey: Key): Metadata<Root> {
    const ids = keys.map((key) => key.keyID);
    const allKeys = [...keys, onlineKey];
    // Built from its JSON form: the models export no Role class to set a threshold with.
    const root = Root.fromJSON({
      _type: 'root',
      spec_version: SPEC_VERSION,
      version,
      expires: expiresIn(this.#now(), this.#life.rootSeconds),
      consistent_snapshot: true,
      keys: Object.fromEntries(allKeys.map((key) => [key.keyID, key.toJSON()])),
      roles: {
        root: { keyids: ids, threshold },
        targets: { keyids: ids, threshold },
        snapshot: { keyids: [onlineKey.keyID], threshold: 1 },
        timestamp: { keyids: [onlineKey.keyID], threshold: 1 },
      },
    });
    return new Metadata(root);
  }

  async #publishTargets(
    channel: string,
    entries: Record<string, TargetFile>,
    signers: readonly Signer[],
  ): Promise<ReleaseOutcome> {
    this.#settings(channel);
    const current = this.#currentTargets(channel);
    if (current && sameEntries(current.signed.targets, entries)) {
      rmSync(join(this.#channelDir(channel), 'pending.targets.json'), { force: true });
      return {
        status: 'unchanged',
        channel,
        version: current.signed.version,
        targets: releasedTargets(current),
      };
    }
    const targets = new Metadata(
      new Targets({
        version: (current?.signed.version ?? 0) + 1,
        specVersion: SPEC_VERSION,
        expires: expiresIn(this.#now(), this.#life.targetsSeconds),
        targets: entries,
      }),
    );
    await signMetadata(targets, signers);
    return this.#finishTargets(channel, targets);
  }

  /** Publishes signed targets if they meet the threshold, else keeps them pending. */
  async #finishTargets(channel: string, targets: Metadata<Targets>): Promise<ReleaseOutcome> {
    const root = this.#root(channel);
    const dir = this.#channelDir(channel);
    // Signatures by keys the channel does not trust are dropped, not published.
    const trusted = new Set(root.signed.roles[MetadataKind.Targets]?.keyIDs ?? []);
    for (const keyID of Object.keys(targets.signatures))
      if (!trusted.has(keyID)) delete targets.signatures[keyID];
    const valid = countValid(root, MetadataKind.Targets, targets);
    const needed = root.signed.roles[MetadataKind.Targets]?.threshold ?? 1;
    if (valid < needed) {
      this.#atomicWrite(join(dir, 'pending.targets.json'), metadataBytes(targets));
      return { status: 'pending', channel, version: targets.signed.version, signatures: valid, needed };
    }
    const targetsBytes = metadataBytes(targets);
    this.#atomicWrite(join(dir, `${targets.signed.version}.targets.json`), targetsBytes);
    const previous = this.#timestamp(channel);
    const snapshotVersion = (previous?.signed.snapshotMeta.version ?? 0) + 1;
    const snapshot = new Metadata(
      new Snapshot({
        version: snapshotVersion,
        specVersion: SPEC_VERSION,
        expires: expiresIn(this.#now(), this.#life.snapshotSeconds),
        meta: { 'targets.json': metaFile(targets.signed.version, targetsBytes) },
      }),
    );
    await signMetadata(snapshot, [this.#online(channel)]);
    const snapshotBytes = metadataBytes(snapshot);
    this.#atomicWrite(join(dir, `${snapshotVersion}.snapshot.json`), snapshotBytes);
    await this.#writeTimestamp(
      channel,
      metaFile(snapshotVersion, snapshotBytes),
      (previous?.signed.version ?? 0) + 1,
    );
    rmSync(join(dir, 'pending.targets.json'), { force: true });
    return {
      status: 'published',
      channel,
      version: targets.signed.version,
      targets: releasedTargets(targets),
    };
  }

  async #writeTimestamp(channel: string, snapshotMeta: MetaFile, version: number): Promise<void> {
    const timestamp = new Metadata(
      new Timestamp({
        version,
        specVersion: SPEC_VERSION,
        expires: expiresIn(this.#now(), this.#life.timestampSeconds),
        snapshotMeta,
      }),
    );
    await signMetadata(timestamp, [this.#online(channel)]);
    this.#atomicWrite(join(this.#channelDir(channel), 'timestamp.json'), metadataBytes(timestamp));
  }

  #check(root: Metadata<Root>, role: MetadataKind, metadata: Metadata<Root>, what: string): void {
    try {
      root.verifyDelegate(role, metadata);
    } catch (error) {
      throw new PaddockError('PDK_RELEASE_THRESHOLD', `${what}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  #timestamp(channel: string): Metadata<Timestamp> | undefined {
    const path = join(this.#channelDir(channel), 'timestamp.json');
    return existsSync(path) ? readMetadata<Timestamp>(MetadataKind.Timestamp, readFileSync(path)) : undefined;
  }

  #currentTargets(channel: string): Metadata<Targets> | undefined {
    this.#settings(channel);
    const timestamp = this.#timestamp(channel);
    if (!timestamp) return undefined;
    const dir = this.#channelDir(channel);
    const snapshot = readMetadata<Snapshot>(
      MetadataKind.Snapshot,
      readFileSync(join(dir, `${timestamp.signed.snapshotMeta.version}.snapshot.json`)),
    );
    const meta = snapshot.signed.meta['targets.json'] as MetaFile;
    return readMetadata<Targets>(
      MetadataKind.Targets,
      readFileSync(join(dir, `${meta.version}.targets.json`)),
    );
  }

  #root(channel: string): Metadata<Root> {
    return readMetadata<Root>(MetadataKind.Root, this.trustedRoot(channel));
  }

  #rootVersion(channel: string): number {
    const versions = readdirSync(join(this.#channelDir(channel), 'root'))
      .map((name) => /^(\d+)\.json$/.exec(name)?.[1])
      .filter((version): version is string => version !== undefined)
      .map(Number);
    return Math.max(0, ...versions);
  }

  #settings(channel: string): ChannelSettings {
    const settings = this.#channels.get(channel);
    if (!settings)
      throw new PaddockError(
        'PDK_RELEASE_CHANNEL',
        `no release channel "${channel}" (channels: ${[...this.#channels.keys()].join(', ')})`,
      );
    return settings;
  }

  #channelDir(channel: string): string {
    return join(this.#dir, 'channels', channel);
  }

  #keyFile(channel: string, name: string): string {
    return join(this.#dir, 'keys', channel, `${name}.pem`);
  }

  #writeBlob(sha256: string, bytes: Uint8Array): void {
    const path = join(this.#dir, 'blobs', sha256);
    if (!existsSync(path)) this.#atomicWrite(path, bytes);
  }

  #atomicWrite(path: string, bytes: Uint8Array): void {
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, bytes, { mode: 0o600 });
    renameSync(temporary, path);
  }
}

function metaFile(version: number, bytes: Uint8Array): MetaFile {
  return new MetaFile({
    version,
    length: bytes.byteLength,
    hashes: { sha256: createHash('sha256').update(bytes).digest('hex') },
  });
}

function countValid(root: Metadata<Root>, role: MetadataKind, metadata: Metadata<Targets>): number {
  const roleSpec = root.signed.roles[role];
  if (!roleSpec) return 0;
  let valid = 0;
  for (const keyID of roleSpec.keyIDs) {
    try {
      root.signed.keys[keyID]?.verifySignature(metadata);
      if (root.signed.keys[keyID]) valid++;
    } catch {}
  }
  return valid;
}

function sameEntries(a: Record<string, TargetFile>, b: Record<string, TargetFile>): boolean {
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return false;
  return names.every(
    (name) => b[name] !== undefined && (a[name] as TargetFile).equals(b[name] as TargetFile),
  );
}

function releasedTargets(targets: Metadata<Targets>): ReleasedTarget[] {
  return Object.values(targets.signed.targets)
    .map((target) => {
      const custom = target.custom as { bundleId?: string; bundleVersion?: string; commit?: string };
      return {
        name: target.path.replace(/\.json$/, ''),
        sha256: target.hashes['sha256'] as string,
        length: target.length,
        bundleId: custom.bundleId ?? '',
        bundleVersion: custom.bundleVersion ?? '',
        commit: custom.commit ?? '',
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}
