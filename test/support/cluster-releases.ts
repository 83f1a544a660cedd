import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { type DesiredState, requireValidRepository } from '../../src/config/index.ts';
import {
  ClusterBus,
  type ClusterReleases,
  LeaderElection,
  openClusterReleases,
} from '../../src/controlplane/cluster/index.ts';
import { type BundleRelease, directoryDigest } from '../../src/controlplane/reconciler/index.ts';
import { compileRepository } from '../../src/controlplane/releases/index.ts';
import { openStore } from '../../src/controlplane/store/open-store.ts';
import type { Store } from '../../src/controlplane/store/store.ts';
import { channelBundleUpdates, PolicyHolder } from '../../src/supervisor/policy/index.ts';

// Test support for signed policy releases on a cluster (a shared PostgreSQL): the mounted key
// Secret, replicas as `paddock serve` wires them (each its own pool, bus, election and scratch
// directory, as two pods), what the reconciler's release step is given, and a supervisor (the
// real TUF client) fetching through a replica's endpoint in process.

/** The election whose leader releases (cluster-control-plane.ts RECONCILER_ELECTION). */
export const RELEASE_ELECTION = 'reconciler';

/** Polls `probe` (sync or async) until it gives something other than undefined or false. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A new Ed25519 private key in PKCS#8 PEM. */
export function ed25519Pem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
}

/** The mounted Secret: one Ed25519 key per file (mode 0600), as docs/releases.md generates them. */
export function writeReleaseKeys(
  dir: string,
  channels: readonly { name: string; threshold: number }[],
): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const channel of channels) {
    writeFileSync(join(dir, `${channel.name}.online.pem`), ed25519Pem(), { mode: 0o600 });
    for (let n = 1; n <= channel.threshold; n++)
      writeFileSync(join(dir, `${channel.name}.signer-${n}.pem`), ed25519Pem(), { mode: 0o600 });
  }
}

/** What the reconciler's release step is given for `configDir` as it is now. */
export async function plannedRelease(configDir: string): Promise<BundleRelease> {
  const commit = await directoryDigest(configDir);
  const compiled = compileRepository(await requireValidRepository(configDir), commit);
  return {
    commit,
    approvedBy: 'platform-team@example.com',
    bundles: compiled.bundles.map((bundle) => ({
      blueprint: bundle.name,
      version: bundle.bundle.version,
      contentDigest: bundle.bundle.id,
      changed: true,
    })),
    withdrawn: [],
  };
}

/** Every metadata row and bundle of the store, by hash: what "nothing was written" compares. */
export async function storeReleaseRows(admin: pg.Client) {
  const metadata = await admin.query<{ key: string; sha256: string }>(
    "SELECT channel || '/' || path AS key, sha256 FROM release_metadata ORDER BY 1",
  );
  const blobs = await admin.query<{ sha256: string }>('SELECT sha256 FROM release_blobs ORDER BY 1');
  return { metadata: metadata.rows, blobs: blobs.rows };
}

export interface ReleaseReplica {
  readonly name: string;
  readonly pool: pg.Pool;
  readonly bus: ClusterBus;
  readonly election: LeaderElection;
  readonly releases: ClusterReleases;
  /** Every (channel, version) this replica told its supervisors of. */
  readonly notified: [string, number][];
  stop(): Promise<void>;
}

export interface ReleaseReplicaOptions {
  readonly url: string;
  readonly name: string;
  /** The replica's scratch directory (its emptyDir). */
  readonly dataDir: string;
  readonly keysDir: string;
  readonly state: DesiredState;
  readonly configDir: string;
  /** The shared store object, or 'own': the replica opens its own connection, as each pod does. */
  readonly store: Store | 'own';
  /** Default true; false: never leads (a deposed leader's stand-in, or a fresh reader). */
  readonly campaign?: boolean;
  /** Default: a new pool of 2 (closed by stop). */
  readonly pool?: pg.Pool;
  readonly notify?: (channel: string, version: number) => void;
  /** Default the election's term. */
  readonly leaderTerm?: () => number | undefined;
}

/** One replica's releases as `paddock serve` opens and follows them. */
export async function startReleaseReplica(options: ReleaseReplicaOptions): Promise<ReleaseReplica> {
  const { url, name } = options;
  const pool = options.pool ?? new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  const bus = new ClusterBus({ url, replicaId: name });
  await bus.start();
  const election = new LeaderElection({ url, election: RELEASE_ELECTION, holder: name, retryMs: 100 });
  if (options.campaign !== false) await election.start();
  const store = options.store === 'own' ? await openStore({ url }) : options.store;
  const closeParts = async () => {
    await election.stop();
    await bus.close();
    if (options.store === 'own') await store.close();
    await pool.end();
  };
  const releases = await openClusterReleases({
    pool,
    bus,
    election: RELEASE_ELECTION,
    dataDir: options.dataDir,
    keysDir: options.keysDir,
    state: options.state,
    store,
    configDir: options.configDir,
  }).catch(async (error: unknown) => {
    await closeParts();
    throw error;
  });
  const notified: [string, number][] = [];
  const stopFollowing = await releases.follow({
    notify: (channel, version) => {
      notified.push([channel, version]);
      options.notify?.(channel, version);
    },
    leaderTerm: options.leaderTerm ?? (() => election.term),
    intervalMs: 60_000,
  });
  return {
    name,
    pool,
    bus,
    election,
    releases,
    notified,
    async stop() {
      await stopFollowing();
      await closeParts();
    },
  };
}

/**
 * A supervisor (the real TUF client) following `channel`'s code-review bundle, fetching through
 * `replica`'s endpoint in process, as the channel server would answer it.
 */
export function supervisorFetchingFrom(replica: ReleaseReplica, stateDir: string, channel = 'canary') {
  const holder = new PolicyHolder();
  const endpoint = replica.releases.releases.endpoint;
  const initialRoot = replica.releases.repository.trustedRoot(channel);
  const updates: ReturnType<typeof channelBundleUpdates> = channelBundleUpdates({
    channel,
    blueprint: 'code-review',
    stateDir,
    initialRoot,
    holder,
    send: (message) => {
      if (message.t !== 'release_fetch') return true;
      const answers = endpoint.serve(message);
      setImmediate(() => {
        for (const answer of answers) updates.onRelease(answer as never);
      });
      return true;
    },
    fetchTimeoutMs: 5_000,
  });
  return { holder, updates, initialRoot };
}
