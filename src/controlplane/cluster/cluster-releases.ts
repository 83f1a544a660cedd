import { join, resolve } from 'node:path';
import { MetadataKind, type Root } from '@tufjs/models';
import type pg from 'pg';
import type { DesiredState } from '../../config/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import { DEFAULT_CHANNELS, type LocalReleases, releasesOver, seedFollowedChannels } from '../local-gitops.ts';
import { channelRelease, type ReleaseFunction } from '../reconciler/index.ts';
import { openReleaseRepository, type ReleaseRepository } from '../releases/index.ts';
import { readMetadata } from '../releases/metadata.ts';
import type { Store } from '../store/store.ts';
import { runFenced } from './fencing.ts';
import { CLUSTER_TOPICS, type ClusterBus } from './notify-bus.ts';
import { loadReleaseKeys, requireKeysMatchRoot } from './release-keys.ts';

export { DEFAULT_RELEASE_KEYS_DIR } from './release-keys.ts';
import { insertMetadataIfAbsent, metadataKey, writeReleaseFiles } from './release-files.ts';
import { ReleaseMirror, sha256Of } from './release-mirror.ts';
import { verifyStoredRelease, verifyStoredRoot } from './release-verify.ts';

// Signed policy releases on a cluster (`paddock serve`, docs/releases.md). The TUF repository
// of every channel lives in the shared store (release-files.ts); each replica serves it from its
// copy (release-mirror.ts), so a supervisor gets the same files whichever replica its channel
// reaches. Only the reconciler's leader writes: its release step (already claimed under its
// term) and its timestamp refreshes are written in a transaction fenced by its term, then
// announced on the bus; every replica, the leader included, pulls the change and tells the
// supervisors connected to it (`notifyRelease`). A missed notice costs nothing but time: each
// replica also pulls on a timer.
//
//   const releases = await openClusterReleases({ pool, bus, election, dataDir, keysDir, state, configDir });
//   wireWorkspaces({ ..., releases: releases.releases });
//   lifecycleActions(lifecycle, { release: releases.release });
//   const stop = await releases.follow({ notify: (c, v) => channel.notifyRelease(c, v), leaderTerm: () => election.term });

const log = createLogger('releases');

/** Default pause between pulls (a bus notice makes a pull happen at once). */
const DEFAULT_PULL_MS = 5_000;

export interface ClusterReleasesOptions {
  readonly pool: pg.Pool;
  readonly bus: ClusterBus;
  /** The election whose leader writes releases (its term fences the write). */
  readonly election: string;
  /** This replica's scratch space: its copy lives in DATA_DIR/releases. */
  readonly dataDir: string;
  /** The mounted Secret of signing keys (release-keys.ts). */
  readonly keysDir: string;
  /** The desired state (the reconciler's latest: a profile's release channel may change). */
  readonly state: DesiredState;
  /** Where the workspaces are: the channels they follow are seeded from the first one. */
  readonly store: Pick<Store, 'listWorkspaces' | 'saveReleaseAttestation' | 'releaseAttestations'>;
  /** The desired-state directory the reconciler applies (what a release step compiles). */
  readonly configDir: string;
  readonly now?: () => number;
}

export interface ClusterReleases {
  /** What wireWorkspaces takes: the endpoint supervisors fetch from, each workspace's channel and root. */
  readonly releases: LocalReleases;
  readonly repository: ReleaseRepository;
  /** The reconciler's release step: pull, sign and release, write to the store under the leader's term. */
  readonly release: ReleaseFunction;
  /**
   * Runs `sync` on every bus notice and on a timer (default 5 s) and tells `notify` of each
   * channel whose timestamp changed; `leaderTerm()` is the term this replica leads (undefined
   * on a standby), which fences its writes. Returns a stop.
   */
  follow(options: {
    readonly notify: (channel: string, version: number) => void;
    readonly leaderTerm: () => number | undefined;
    readonly intervalMs?: number;
  }): Promise<() => Promise<void>>;
  /**
   * Runs one pull now (and, on the leader, re-signs expiring timestamps and seeds the channels
   * workspaces follow, written fenced); what the bus notice and the timer run.
   */
  sync(): Promise<void>;
}

export async function openClusterReleases(options: ClusterReleasesOptions): Promise<ClusterReleases> {
  const now = options.now ?? Date.now;
  const dir = join(resolve(options.dataDir), 'releases');
  const channels = options.state.platform?.value.spec.releases.channels ?? DEFAULT_CHANNELS;
  const names = channels.map((channel) => channel.name);
  const keys = loadReleaseKeys(options.keysDir, channels);
  const signerIDs = (channel: string) => new Set(keys.signers(channel).map((signer) => signer.key.keyID));
  const mirror = new ReleaseMirror({
    pool: options.pool,
    dir,
    channels: names,
    verifyRoot: (channel, version, bytes, previous) =>
      verifyStoredRoot(
        channel,
        version,
        bytes,
        previous ? readMetadata<Root>(MetadataKind.Root, previous) : undefined,
        signerIDs(channel),
      ),
  });
  await mirror.pull();
  const repository = openReleaseRepository({
    dir,
    channels,
    onlineSigner: (channel) => keys.online(channel),
    initialSigners: (channel) => keys.signers(channel.name),
  });
  // Channels the store has no root for get one made here, offered insert-if-absent: the first
  // replica's wins and every replica reads that one back (one trust anchor for the cluster).
  await repository.ready();
  for (const channel of names) {
    const content = repository.readFile(channel, 'root/1.json') as Uint8Array;
    const stored = await insertMetadataIfAbsent(
      options.pool,
      metadataKey(channel, 'root/1.json'),
      { sha256: sha256Of(content), content },
      now(),
    );
    if (stored) log.info({ channel }, 'first root of the channel stored');
  }
  mirror.invalidate();
  await mirror.pull();
  // Fail closed: a replica that cannot trust the store's roots hands out no anchor at all.
  const refused = mirror.refusedRoots;
  if (refused.some((key) => key.endsWith('/root/1.json')))
    throw new PaddockError(
      'PDK_SERVE_RELEASE_KEYS',
      `the store's ${refused.join(', ')} was not made with the signers in ${options.keysDir}: mount the keys the cluster's releases were first made with`,
    );
  if (refused.length > 0)
    throw new PaddockError(
      'PDK_RELEASE_SIGNATURE',
      `the store's ${refused.join(', ')} is not signed by the root before it: a root nobody rotated to (remove its row from release_metadata once you know how it got there)`,
    );
  for (const channel of names) requireKeysMatchRoot(keys, channel, repository.trustedRoot(channel));
  /** PDK_RELEASE_SIGNATURE unless the channel's current release verifies against its root. */
  const verifyChannel = (channel: string) =>
    verifyStoredRelease(
      channel,
      readMetadata<Root>(MetadataKind.Root, repository.trustedRoot(channel)),
      (path) => repository.readFile(channel, path),
    );

  const follows = releasesOver({ repository, dir, channels, store: options.store });
  // A channel some workspace follows that never had a release gets the first channel's, as in
  // `paddock up`, signed with its first key (a threshold above 1 stays pending).
  const seed = () =>
    seedFollowedChannels(options.state, {
      store: options.store,
      releases: follows,
      signer: (channel) => keys.signers(channel)[0],
      cosign: (channel) =>
        `paddock policy cosign --channel ${channel} --sign-with ${join(keys.dir, `${channel}.signer-2.pem`)} --database-url "$PADDOCK_DATABASE_URL" --release-keys ${keys.dir}`,
    });
  let leaderTerm: () => number | undefined = () => undefined;
  let notify: (channel: string, version: number) => void = () => undefined;
  const told = new Map<string, number>();
  // One pull or write at a time: they share the local copy.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };

  /** Writes what the repository changed locally to the store, fenced; the channels it touched. */
  const push = async (): Promise<Set<string>> => {
    const change = mirror.localChange();
    const touched = new Set(
      [...change.put.keys(), ...change.remove].map((key) => key.slice(0, key.indexOf('/'))),
    );
    if (touched.size === 0 && change.blobs.size === 0) return touched;
    const term = leaderTerm();
    try {
      if (term === undefined)
        throw new PaddockError(
          'PDK_CLUSTER_NOT_LEADER',
          `election ${options.election}: this replica does not lead; the release was not written`,
        );
      // Fenced by the term, and checked against the rows this copy started from: an operator's
      // promotion or co-signature of the same channel stored meanwhile is not overwritten.
      const expected = {
        channels: [...touched],
        metadata: new Map([...mirror.synced].filter(([key]) => touched.has(key.slice(0, key.indexOf('/'))))),
      };
      await runFenced(options.pool, options.election, term, (tx) =>
        writeReleaseFiles(tx, change, now(), expected),
      );
    } catch (error) {
      // What was written locally is not the record: go back to what the store holds.
      mirror.invalidate();
      await mirror.pull().catch(() => undefined);
      throw error;
    }
    mirror.accept(change);
    for (const channel of touched)
      await options.bus
        .publish(CLUSTER_TOPICS.releases, { channel })
        .catch((error: Error) => log.warn({ channel, error: error.message }, 'release notice failed'));
    return touched;
  };

  const tellChanged = () => {
    for (const status of repository.channels()) {
      if (status.timestampVersion === 0 || told.get(status.channel) === status.timestampVersion) continue;
      told.set(status.channel, status.timestampVersion);
      notify(status.channel, status.timestampVersion);
    }
  };

  /** Re-signs expiring timestamps and seeds followed channels, never on top of metadata that does not verify. */
  const leaderWork = async () => {
    for (const channel of names) verifyChannel(channel);
    if ((await repository.refreshTimestamps()).length > 0) await push();
    if ((await seed()).length > 0) await push();
  };

  const sync = () =>
    exclusive(async () => {
      await mirror.pull();
      if (leaderTerm() !== undefined)
        await leaderWork().catch(async (error: Error) => {
          log.error(
            { error: error.message, code: (error as { code?: string }).code },
            'the leader did not refresh or seed the release channels',
          );
          // Whatever was signed here but not stored is not the record.
          mirror.invalidate();
          await mirror.pull().catch(() => undefined);
        });
      tellChanged();
    });

  const releaseToFirst = channelRelease({
    repository,
    channel: names[0] as string,
    signers: () => keys.signers(names[0] as string),
    directory: resolve(options.configDir),
  });
  const release: ReleaseFunction = (planned) =>
    exclusive(async () => {
      await mirror.pull();
      verifyChannel(names[0] as string);
      let released: Awaited<ReturnType<ReleaseFunction>> | undefined;
      let failure: unknown;
      try {
        released = await releaseToFirst(planned);
      } catch (error) {
        failure = error;
      }
      // A release waiting for signatures is stored too (pending), so the next leader sees it.
      await push();
      if (failure !== undefined) throw failure;
      tellChanged();
      return released ?? [];
    });

  return {
    releases: follows,
    repository,
    release,
    sync,
    async follow(follow) {
      leaderTerm = follow.leaderTerm;
      notify = follow.notify;
      const unsubscribe = await options.bus.subscribe(CLUSTER_TOPICS.releases, () => {
        sync().catch((error: Error) => log.warn({ error: error.message }, 'release pull failed'));
      });
      const timer = setInterval(() => {
        sync().catch((error: Error) => log.warn({ error: error.message }, 'release pull failed'));
      }, follow.intervalMs ?? DEFAULT_PULL_MS);
      timer.unref();
      await sync();
      return async () => {
        clearInterval(timer);
        unsubscribe();
        await queue;
      };
    },
  };
}
