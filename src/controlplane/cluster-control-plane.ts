import { mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import type { OcsfEvent } from '../audit/index.ts';
import type { DesiredState } from '../config/index.ts';
import { PaddockError } from '../core/errors.ts';
import { createLogger } from '../core/log.ts';
import {
  AzureProvider,
  KubeVirtProvider,
  kubeApiFrom,
  LocalProvider,
  type LocalProviderOptions,
  parseAzureSettings,
  parseKubeVirtSettings,
  type WorkspaceProvider,
} from '../providers/index.ts';
import { RecentActivity } from './activity/recent-activity.ts';
import { CONTROL_PLANE_SOURCE } from './audit/ingest.ts';
import { AuditLeader, DEFAULT_AUDIT_KEY_FILE, openClusterAuditSigner } from './cluster/audit-leader.ts';
import type { ChannelServer } from './channel/channel-server.ts';
import {
  ChannelRelay,
  CLUSTER_TOPICS,
  ClusterBus,
  claimFencedStep,
  ensureFencedRunsTable,
  type FencedRun,
  LeaderElection,
  LeaderLoop,
} from './cluster/index.ts';
import { DEFAULT_RELEASE_KEYS_DIR, openClusterReleases } from './cluster/cluster-releases.ts';
import { type ControlPlaneServer, createControlPlaneServer } from './http/server.ts';
import { wireWorkspaces } from './local-control-plane.ts';
import {
  lifecycleActions,
  type ReconcileActions,
  reconcileOnce,
  openSource,
  type SourceSpec,
} from './reconciler/index.ts';
import { DEFAULT_SERVE_SESSION_KEY_FILE, openProvisionedSessionKey } from './sessions/session-key.ts';
import { openStore } from './store/open-store.ts';
import type { Store } from './store/store.ts';
import type { WorkspaceLifecycle } from './workspaces/index.ts';

// The control plane as one replica of several on a cluster (`paddock serve`): the shared
// PostgreSQL store, the HTTP server on every interface, the supervisor channel behind the same
// port (`/channel`), the providers the profiles name, and the reconciler, which only the
// leader of the `reconciler` election runs, each of its steps claimed under the leader's term
// (a deposed leader's claim is refused, so it stops before acting). Revocations are relayed to
// the other replicas (a supervisor may hold its channel to any of them) and review changes are
// published on LISTEN/NOTIFY. Signed policy releases are kept in the store and served by every
// replica (cluster/cluster-releases.ts). Each part is its own module; this file only wires them, in the
// order they depend on each other, and takes them down in reverse.

const log = createLogger('controlplane');

/** The election the reconciler's leader wins. */
export const RECONCILER_ELECTION = 'reconciler';

/** Where the chart mounts each provider's settings. */
export const DEFAULT_SETTINGS_FILES = {
  kubevirt: '/etc/paddock/kubevirt/kubevirt.yaml',
  azure: '/etc/paddock/azure/azure.yaml',
} as const;

export interface ClusterControlPlaneOptions {
  readonly state: DesiredState;
  /** The desired-state directory: what the reconciler applies and supervisors read. */
  readonly configDir: string;
  /** This replica's scratch space (recordings, channel identities, provider state). */
  readonly dataDir: string;
  /** postgres:// URL of the shared store; anything else is PDK_SERVE_DATABASE. */
  readonly databaseUrl: string;
  /** Default 0.0.0.0. */
  readonly host?: string;
  /** Default 8080. */
  readonly port?: number;
  /** The origin browsers use (the Route's). Default http://<host>:<port>. */
  readonly publicOrigin?: string;
  readonly consoleDir?: string;
  /** This replica's name in the election and on the bus. Default the host name (the pod's name). */
  readonly replicaId?: string;
  readonly settingsFiles?: { readonly kubevirt?: string; readonly azure?: string };
  /** Who approved what the reconciler applies from a plain directory (a Git source names its own). */
  readonly approvedBy?: string;
  /** Pause between reconciler passes on the leader. Default 30 s. */
  readonly reconcileIntervalMs?: number;
  /** How often a standby tries the leader lock. Default 1 s. */
  readonly electionRetryMs?: number;
  /** The policy release signing keys every replica mounts (cluster/release-keys.ts). Default DEFAULT_RELEASE_KEYS_DIR. */
  readonly releaseKeysDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The checkpoint signing key every replica mounts (src/controlplane/cluster/audit-leader.ts). Default DEFAULT_AUDIT_KEY_FILE. */
  readonly auditKeyFile?: string;
  /** How often the `audit` leader checkpoints when events arrived. Default 60 s. */
  readonly auditCheckpointMs?: number;
  /** The session key every replica mounts (src/controlplane/sessions/session-key.ts). Default DEFAULT_SERVE_SESSION_KEY_FILE. */
  readonly sessionKeyFile?: string;
  /**
   * The encrypted secret store the `local` provider's workspaces inject credentials from
   * (LocalProviderOptions.secrets; absolute paths, outside the data directory's workspaces).
   * Default none: credentialed services fail closed. Other providers get none yet.
   */
  readonly secrets?: LocalProviderOptions['secrets'];
}

export interface ClusterControlPlane {
  readonly server: ControlPlaneServer;
  readonly store: Store;
  readonly lifecycle: WorkspaceLifecycle;
  readonly channel: ChannelServer;
  readonly election: LeaderElection;
  readonly replicaId: string;
  /** Gives up leadership, stops the reconciler, closes the channel and the store. */
  close(): Promise<void>;
}

/** PDK_SERVE_DATABASE unless `url` names PostgreSQL: replicas must share one store. */
export function requirePostgresUrl(url: string | undefined): string {
  if (!url)
    throw new PaddockError(
      'PDK_SERVE_DATABASE',
      'PADDOCK_DATABASE_URL is not set: paddock serve needs PostgreSQL',
    );
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new PaddockError(
      'PDK_SERVE_DATABASE',
      `PADDOCK_DATABASE_URL must be a postgres:// URL, not ${url.split(':')[0]}: (SQLite is for paddock up)`,
    );
  return url;
}

/** The providers the profiles name (`local` only when one asks for it). */
export function providersNamed(state: DesiredState): Set<string> {
  return new Set([...state.profiles.values()].map((profile) => profile.value.spec.provider));
}

function readSettingsFile(file: string): unknown {
  try {
    return parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new PaddockError(
      'PDK_WORKSPACE_PROVIDER',
      `cannot read provider settings ${file}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

async function buildProviders(
  options: ClusterControlPlaneOptions,
  dataDir: string,
  audit: (event: OcsfEvent) => Promise<unknown>,
): Promise<Map<string, WorkspaceProvider>> {
  const providers = new Map<string, WorkspaceProvider>();
  for (const name of providersNamed(options.state)) {
    if (name === 'local')
      providers.set(
        'local',
        new LocalProvider({ dataDir, audit, ...(options.secrets ? { secrets: options.secrets } : {}) }),
      );
    else if (name === 'kubevirt') {
      const settings = parseKubeVirtSettings(
        readSettingsFile(options.settingsFiles?.kubevirt ?? DEFAULT_SETTINGS_FILES.kubevirt),
      );
      const config = new KubeConfig();
      config.loadFromDefault(); // in a pod: the service account; elsewhere KUBECONFIG
      const provider = new KubeVirtProvider({ api: kubeApiFrom(config), settings });
      // What runs already: the lifecycle's resume must not start (and so restart) those VMs.
      const found = await provider.refreshStatus();
      log.info({ provider: name, found }, 'provider status refreshed');
      providers.set(name, provider);
    } else if (name === 'azure') {
      const settings = parseAzureSettings(
        readSettingsFile(options.settingsFiles?.azure ?? DEFAULT_SETTINGS_FILES.azure),
      );
      providers.set(name, new AzureProvider({ settings, dataDir: join(dataDir, 'azure') }));
    }
  }
  return providers;
}

/**
 * Hands a `/channel` upgrade to the channel server, which listens on loopback only: the raw
 * request is replayed to it and the two sockets are joined. The channel authenticates the
 * supervisor itself (its upgrade carries the workspace's credential).
 */
function channelPassThrough(channel: () => ChannelServer | undefined) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const current = channel();
    if (!current) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    const target = new URL(current.url.replace(/^ws:/, 'http:'));
    const upstream = connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    const drop = () => {
      socket.destroy();
      upstream.destroy();
    };
    upstream.on('error', drop);
    socket.on('error', drop);
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  };
}

/** Review changes published on the bus, so every replica learns of them (the store stays the record). */
function publishingReviews(store: Store, bus: ClusterBus): Store {
  const publish = (reviewId: string, status: string) => {
    bus
      .publish(CLUSTER_TOPICS.reviews, { reviewId, status })
      .catch((error: Error) => log.warn({ reviewId, error: error.message }, 'review notification failed'));
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'createReviewRequest' || property === 'decideReviewRequest')
        return async (...args: unknown[]) => {
          const record = await (
            target[property] as (...a: unknown[]) => Promise<{ id: string; status: string }>
          )(...args);
          publish(record.id, record.status);
          return record;
        };
      if (property === 'voteOnReviewRequest')
        return async (...args: Parameters<Store['voteOnReviewRequest']>) => {
          const result = await target.voteOnReviewRequest(...args);
          publish(result.request.id, result.request.status);
          return result;
        };
      if (property === 'expireReviewRequests')
        return async (...args: Parameters<Store['expireReviewRequests']>) => {
          const decided = await target.expireReviewRequests(...args);
          for (const record of decided) publish(record.id, record.status);
          return decided;
        };
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The desired state as the reconciler last validated it, behind one stable object: the
 * lifecycle (a workspace's blueprint) reads the commit being applied, not the one at start.
 */
function liveState(initial: DesiredState): {
  readonly state: DesiredState;
  update(next: DesiredState): void;
} {
  let current = initial;
  const state = new Proxy(initial, { get: (_target, property) => Reflect.get(current, property) });
  return {
    state,
    update(next) {
      current = next;
    },
  };
}

/** The lifecycle's channel, whose revocations also close the workspace's connection on every other replica. */
function relayingChannel(channel: ChannelServer, relay: ChannelRelay): ChannelServer {
  return new Proxy(channel, {
    get(target, property) {
      if (property === 'revoke')
        return async (workspaceId: string) => {
          await target.revoke(workspaceId);
          await relay.revoked(workspaceId);
        };
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The reconciler's actions, each claimed under the leader's term before it runs. */
function fencedActions(actions: ReconcileActions, pool: pg.Pool, run: FencedRun): ReconcileActions {
  const claim = (step: string) => claimFencedStep(pool, run, step);
  return {
    async create(actor, step) {
      await claim(`create ${step.workspace}`);
      await actions.create(actor, step);
    },
    async reprovision(actor, id) {
      await claim(`reprovision ${id}`);
      await actions.reprovision(actor, id);
    },
    async rebuild(actor, id) {
      await claim(`rebuild ${id}`);
      await actions.rebuild(actor, id);
    },
    async revoke(actor, id) {
      await claim(`revoke ${id}`);
      await actions.revoke(actor, id);
    },
    async release(release) {
      await claim(`release ${release.commit}`);
      return actions.release(release);
    },
  };
}

export async function startClusterControlPlane(
  options: ClusterControlPlaneOptions,
): Promise<ClusterControlPlane> {
  const databaseUrl = requirePostgresUrl(options.databaseUrl);
  const dataDir = resolve(options.dataDir);
  const replicaId = options.replicaId ?? hostname();
  const undo: Array<() => Promise<unknown>> = [];
  const closeAll = async () => {
    for (const step of undo.splice(0).reverse()) await step().catch(() => {});
  };
  const live = liveState(options.state);
  // Channel identities and recordings are written here (the chart mounts an emptyDir).
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Before anything starts: a replica without the shared signing key must not run (fail closed).
  const auditSigner = openClusterAuditSigner(options.auditKeyFile ?? DEFAULT_AUDIT_KEY_FILE);
  // The same for every replica, so any of them opens the refresh tokens stored with the sessions.
  const sessionKey = openProvisionedSessionKey(options.sessionKeyFile ?? DEFAULT_SERVE_SESSION_KEY_FILE);
  try {
    const store = await openStore({ url: databaseUrl });
    undo.push(() => store.close());
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, application_name: 'paddock-fenced' });
    pool.on('error', (error) => log.warn({ error: error.message }, 'fenced-write connection failed'));
    undo.push(() => pool.end());
    await ensureFencedRunsTable(pool);

    const activity = new RecentActivity();
    const audit = async (event: OcsfEvent | Record<string, unknown>) => {
      const [record] = await store.appendChainedAuditEvents(CONTROL_PLANE_SOURCE, [
        event as Record<string, unknown>,
      ]);
      activity.record(event as OcsfEvent);
      return record;
    };

    const bus = new ClusterBus({ url: databaseUrl, replicaId });
    await bus.start();
    undo.push(() => bus.close());
    await bus.subscribe(CLUSTER_TOPICS.reviews, (message) => {
      // Consoles poll the shared store; the notice is what a live view hooks into.
      if (message.origin !== replicaId)
        log.info(
          { origin: message.origin, review: JSON.stringify(message.body) },
          'review changed on another replica',
        );
    });

    const providers = await buildProviders(options, dataDir, audit);
    let channel: ChannelServer | undefined;
    const server = await createControlPlaneServer({
      store: publishingReviews(store, bus),
      state: options.state,
      dataDir,
      audit,
      host: options.host ?? '0.0.0.0',
      port: options.port ?? 8080,
      ...(options.publicOrigin ? { publicOrigin: options.publicOrigin } : {}),
      consoleDir: options.consoleDir,
      env: options.env,
      passThroughUpgrades: { '/channel': channelPassThrough(() => channel) },
      sessionKey,
    });
    undo.push(() => server.close());

    // Signed policy releases: each channel's repository is in the store, served by every replica.
    const releases = await openClusterReleases({
      pool,
      bus,
      election: RECONCILER_ELECTION,
      dataDir,
      keysDir: options.releaseKeysDir ?? DEFAULT_RELEASE_KEYS_DIR,
      state: live.state,
      store,
      configDir: options.configDir,
    });
    let relay: ChannelRelay | undefined;
    const workspaces = await wireWorkspaces({
      server,
      store,
      state: live.state,
      configDir: options.configDir,
      dataDir,
      audit,
      activity,
      providers,
      releases: releases.releases,
      channelListen: { host: '127.0.0.1', port: 0 },
      lifecycleChannel: (local) => {
        relay = new ChannelRelay(bus, local);
        return relayingChannel(local, relay);
      },
    });
    undo.push(() => workspaces.close());
    channel = workspaces.channel;
    await relay?.start();
    undo.push(async () => relay?.stop());
    const { lifecycle } = workspaces;
    const election = new LeaderElection({
      url: databaseUrl,
      election: RECONCILER_ELECTION,
      holder: replicaId,
      retryMs: options.electionRetryMs ?? 1000,
      // One replica resumes the workspaces the store says run (every replica doing it would start
      // each twice), after reading what runs now: a VM found running is left as it is.
      onElected: async () => {
        for (const provider of providers.values())
          if (provider instanceof KubeVirtProvider) await provider.refreshStatus();
        const resumed = await lifecycle.resume();
        if (resumed.length > 0) log.info({ resumed: resumed.join(',') }, 'workspaces resumed');
      },
    });
    const source: SourceSpec = { kind: 'directory', dir: resolve(options.configDir) };
    const actions = lifecycleActions(lifecycle, { release: releases.release });
    const loop = new LeaderLoop({
      election,
      intervalMs: options.reconcileIntervalMs ?? 30_000,
      run: async (term) => {
        const run: FencedRun = { election: RECONCILER_ELECTION, term, holder: replicaId };
        const outcome = await reconcileOnce(await openSource(source), options.approvedBy, {
          store,
          actions: fencedActions(actions, pool, run),
          audit,
          onState: live.update,
        });
        const ran = (outcome.resumed?.ran ?? 0) + (outcome.applied?.ran ?? 0);
        if (ran > 0) log.info({ term, ran, commit: outcome.planned.plan.commit }, 'reconciled');
      },
    });
    await election.start();
    loop.start();
    const stopReleases = await releases.follow({
      notify: (name, version) => workspaces.channel.notifyRelease(name, version),
      leaderTerm: () => election.term,
    });
    undo.push(stopReleases);
    // Reverse order on close: the loop stops (a pass in progress finishes), then the lock goes.
    undo.push(() => election.stop());
    undo.push(() => loop.stop());
    // The sinks and checkpoints: the leader of the `audit` election (closed first: a last checkpoint, the sinks' flush).
    const auditLeader = await AuditLeader.start({
      url: databaseUrl,
      pool,
      store,
      signer: auditSigner,
      sinks: options.state.platform?.value.spec.audit.sinks ?? [],
      dataDir,
      replicaId,
      audit,
      ...(options.env ? { env: options.env } : {}),
      ...(options.auditCheckpointMs ? { checkpointIntervalMs: options.auditCheckpointMs } : {}),
      electionRetryMs: options.electionRetryMs ?? 1000,
    });
    undo.push(() => auditLeader.stop());

    return { server, store, lifecycle, channel: workspaces.channel, election, replicaId, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
