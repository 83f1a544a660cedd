import { join, resolve } from 'node:path';
import { createSinks, type OcsfEvent, openFileSigner } from '../audit/index.ts';
import type { DesiredState } from '../config/index.ts';
import { PaddockError } from '../core/errors.ts';
import { createLogger } from '../core/log.ts';
import { LocalProvider, type LocalProviderOptions, type WorkspaceProvider } from '../providers/index.ts';
import { RecentActivity } from './activity/recent-activity.ts';
import { AuditCheckpointer, auditKeyPath } from './audit/checkpointer.ts';
import { CONTROL_PLANE_SOURCE } from './audit/ingest.ts';
import { AuditSinkFeeder, adoptCursorFile } from './audit/sink-feeder.ts';
import { createTerminalBroker, type TerminalBroker } from './broker/terminal-broker.ts';
import { type ChannelListen, ChannelServer } from './channel/channel-server.ts';
import { IdentityRegistry } from './channel/identity-registry.ts';
import { type ControlPlaneServer, createControlPlaneServer } from './http/server.ts';
import { terminalRoute, workspaceRoutes } from './http/workspace-routes.ts';
import { bootstrapLocal, type LocalBootstrapResult } from './local-bootstrap.ts';
import { type LocalReleases, openLocalReleases, startLocalReconciler } from './local-gitops.ts';
import { openLocalSessionKey } from './sessions/session-key.ts';
import { openStore } from './store/open-store.ts';
import type { Store, WorkspaceRecord } from './store/store.ts';
import { WorkspaceLifecycle } from './workspaces/index.ts';

// The whole control plane on one machine, as `paddock up` runs it: the store (with the central
// audit trail: the control plane's chain, every workspace's shipped spool, signed checkpoints,
// and the SIEM sinks fed from it) under the data directory, the HTTP server (SSO through the embedded IdP, API, console), the
// channel supervisors dial, the local provider with one supervisor per workspace, the
// lifecycle, and the broker's terminals. Each part is its own module; this file only wires
// them, in the order they depend on each other, and takes them down in reverse.

const log = createLogger('controlplane');

export interface LocalControlPlaneOptions {
  readonly state: DesiredState;
  /** The desired-state directory (supervisors read their blueprint from it). */
  readonly configDir: string;
  readonly dataDir: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** The built console; without it only the API answers. */
  readonly consoleDir?: string;
  /** How often connected workspaces' channel identities are rotated. Default 24 h. */
  readonly identityRotationMs?: number;
  /** How often the central audit store is checkpointed (signed) when events arrived. Default 60 s. */
  readonly auditCheckpointMs?: number;
  /** Start the demo workspace and wait for its supervisor to dial in. Default true. */
  readonly startDemoWorkspace?: boolean;
  /** How often the reconciler looks at configDir for a new desired state to apply and release. Default 5 s. */
  readonly reconcileIntervalMs?: number;
  /**
   * The encrypted secret store every local workspace's gateways inject credentials from
   * (absolute paths, outside the data directory's workspaces; docs/egress.md). Default none:
   * credentialed services fail closed.
   */
  readonly secrets?: LocalProviderOptions['secrets'];
  readonly env?: NodeJS.ProcessEnv;
}

export interface LocalControlPlane {
  readonly server: ControlPlaneServer;
  readonly store: Store;
  readonly lifecycle: WorkspaceLifecycle;
  readonly broker: TerminalBroker;
  readonly channel: ChannelServer;
  readonly bootstrap: LocalBootstrapResult;
  /** Signs checkpoints of the central audit store. */
  readonly checkpointer: AuditCheckpointer;
  /** The pid of the workspace's supervisor while one runs (operators, fault tests). */
  supervisorPid(workspaceId: string): number | undefined;
  /** The policy release repository (DATA_DIR/releases) and the endpoint supervisors fetch from. */
  readonly releases: LocalReleases;
  close(): Promise<void>;
}

/** How often each connected workspace's channel identity is replaced. */
const DEFAULT_IDENTITY_ROTATION_MS = 24 * 3_600_000;

/** How long stopping gives the sinks to deliver what they hold (the rest is dead-lettered). */
const SINK_CLOSE_DEADLINE_MS = 10_000;

/** How long `paddock up` waits for the demo workspace's supervisor to dial in. */
const CONNECT_TIMEOUT_MS = 30_000;

/** The blueprint a workspace's supervisor enforces: the first its owner's assignment lists. */
export function blueprintForOwner(
  state: DesiredState,
  workspace: WorkspaceRecord,
  groups: readonly string[],
) {
  const assignments = state.assignments?.value.spec.assignments ?? [];
  const match = assignments.find(
    (a) =>
      a.profile === workspace.profile &&
      (a.users.includes(workspace.owner) || a.groups.some((group) => groups.includes(group))),
  );
  const blueprint = match?.blueprints[0];
  if (!blueprint)
    throw new PaddockError(
      'PDK_WORKSPACE_PROVIDER',
      `no assignment gives ${workspace.owner} a blueprint with profile ${workspace.profile}`,
    );
  return blueprint;
}

export interface WorkspaceParts {
  readonly lifecycle: WorkspaceLifecycle;
  readonly broker: TerminalBroker;
  readonly channel: ChannelServer;
  /** The pid of the workspace's supervisor while one runs (operators, fault tests). */
  supervisorPid(workspaceId: string): number | undefined;
  /** Replaces the desired state workspaces' blueprints and release channels are read from (the reconciler's new commit). */
  setState(state: DesiredState): void;
  close(): Promise<void>;
}

/**
 * Everything behind the workspace routes, mounted on `server`: the channel supervisors dial
 * (a unix socket under the data directory), the local provider, the lifecycle, the terminal
 * broker with its recordings, and the routes themselves.
 */
export async function wireWorkspaces(parts: {
  readonly server: ControlPlaneServer;
  readonly store: Store;
  readonly state: DesiredState;
  readonly configDir: string;
  readonly dataDir: string;
  readonly audit: (event: OcsfEvent) => Promise<unknown>;
  readonly activity: RecentActivity;
  /** Default 24 h. */
  readonly identityRotationMs?: number;
  /** The providers by name (`paddock serve`, per profile). Default: the local provider under dataDir. */
  readonly providers?: ReadonlyMap<string, WorkspaceProvider>;
  /** Where supervisors dial. Default: a unix socket under dataDir. */
  readonly channelListen?: ChannelListen;
  /** Wraps the channel the lifecycle drives (a cluster relays revocations to the other replicas). */
  readonly lifecycleChannel?: (channel: ChannelServer) => ChannelServer;
  /** Signed policy releases: served over the channel, and each workspace follows its profile's channel. */
  readonly releases?: LocalReleases;
  /** The default local provider's secret store (LocalProviderOptions.secrets). Ignored with `providers`. */
  readonly secrets?: LocalProviderOptions['secrets'];
}): Promise<WorkspaceParts> {
  const { server, store, dataDir, audit } = parts;
  // The reconciler replaces it with each new commit it applies.
  let state = parts.state;
  const recordingsDir = join(dataDir, 'recordings');
  const broker = createTerminalBroker({
    recordingsDir,
    audit,
    allowedOrigins: [server.publicOrigin],
    sessionActive: (sessionId) => server.sessions.isActive(sessionId),
  });
  server.sessions.onSessionEnded((sessionId, reason) => {
    void broker.closeSessionTerminals(sessionId, reason);
  });
  // In the store every replica shares; a replica's file from before is imported once.
  const identities = new IdentityRegistry({ store, file: join(dataDir, 'channel-identities.json') });
  const channel = await ChannelServer.start({
    registry: identities,
    listen: parts.channelListen ?? { path: join(dataDir, 'channel.sock') },
    // Calls a workspace's decision point, hooks or gateway hold wait in the server's queue.
    reviews: server.reviews,
    // Each workspace's audit spool ships into the central store, under its own workspace id.
    auditStore: store,
    ...(parts.releases ? { releases: parts.releases.endpoint } : {}),
  });
  const provider = parts.providers
    ? undefined
    : new LocalProvider({ dataDir, audit, ...(parts.secrets ? { secrets: parts.secrets } : {}) });
  const providers = parts.providers ?? new Map([['local', provider as WorkspaceProvider]]);
  const lifecycle = new WorkspaceLifecycle({
    store,
    channel: parts.lifecycleChannel ? parts.lifecycleChannel(channel) : channel,
    identities,
    providers,
    configDir: resolve(parts.configDir),
    blueprintFor: (workspace) => {
      const owner = state.platform?.value.spec.identity.demoUsers.find(
        (user) => user.email === workspace.owner,
      );
      return blueprintForOwner(state, workspace, owner?.groups ?? []);
    },
    ...(parts.releases
      ? { releasesFor: (workspace: WorkspaceRecord) => parts.releases?.followFor(state, workspace) }
      : {}),
    audit,
    revokeHooks: {
      endSessions: (userId) => server.sessions.revokeUser(userId, 'workspace revoked'),
      closeTerminals: async (workspaceId) => {
        for (const live of broker.listLiveTerminals())
          if (live.workspaceId === workspaceId)
            await broker.closeSessionTerminals(live.sessionId, 'workspace revoked');
      },
    },
  });
  server.registerRoutes(
    workspaceRoutes({ store, lifecycle, activity: parts.activity, recordingsDir, channel }),
  );
  server.registerUpgrade(terminalRoute({ broker, channel, sessions: server.sessions }));
  // Identities are rotated on a schedule, so a key copied out of a workspace stops working on
  // its own; a workspace that is not connected gets a fresh one when it next starts.
  const rotation = setInterval(() => {
    for (const workspaceId of channel.connectedWorkspaces())
      channel
        .rotate(workspaceId)
        .catch((error: Error) => log.warn({ workspaceId, error: error.message }, 'identity rotation failed'));
  }, parts.identityRotationMs ?? DEFAULT_IDENTITY_ROTATION_MS);
  rotation.unref();
  return {
    lifecycle,
    broker,
    channel,
    supervisorPid: (workspaceId) => provider?.pid(workspaceId),
    setState(next) {
      state = next;
    },
    async close() {
      clearInterval(rotation);
      await broker.close();
      for (const each of providers.values()) await each.close();
      await channel.close();
    },
  };
}

export async function startLocalControlPlane(options: LocalControlPlaneOptions): Promise<LocalControlPlane> {
  const dataDir = resolve(options.dataDir);
  const bootstrap = await bootstrapLocal({ state: options.state, dataDir });
  const undo: Array<() => Promise<unknown>> = [];
  const closeAll = async () => {
    for (const step of undo.splice(0).reverse()) await step().catch(() => {});
  };
  try {
    const store = await openStore({ url: bootstrap.storeUrl });
    undo.push(() => store.close());
    const activity = new RecentActivity();
    // The control plane's own events go into its chain in the store (the commit is the durable
    // write); the sinks are fed from the store, so they see them, and every workspace's, once stored.
    let feeder: AuditSinkFeeder | undefined;
    const audit = async (event: OcsfEvent | Record<string, unknown>) => {
      const [record] = await store.appendChainedAuditEvents(CONTROL_PLANE_SOURCE, [
        event as Record<string, unknown>,
      ]);
      activity.record(event as OcsfEvent);
      feeder?.poke();
      return record;
    };
    const sinks = await createSinks(options.state.platform?.value.spec.audit.sinks ?? [], {
      dataDir,
      ...(options.env ? { env: options.env } : {}),
      // A sink's own events (a JSONL file rotated) are recorded like any other.
      onSystemEvent: (event) => {
        audit(event).catch((error: Error) =>
          log.warn({ error: error.message }, 'recording an audit sink event failed'),
        );
      },
    });
    // The cursor is in the store (as on a cluster); an older release's cursor file is moved there once.
    await adoptCursorFile(store, join(dataDir, 'audit', 'sinks-cursor.json'));
    feeder = new AuditSinkFeeder(store, sinks);
    await feeder.start();
    const sinkFeeder = feeder;
    undo.push(() => sinkFeeder.close(SINK_CLOSE_DEADLINE_MS));
    const checkpointer = new AuditCheckpointer(store, openFileSigner(auditKeyPath(dataDir)), {
      ...(options.auditCheckpointMs ? { intervalMs: options.auditCheckpointMs } : {}),
    });
    checkpointer.start();
    undo.push(() => checkpointer.stop());

    const server = await createControlPlaneServer({
      store,
      state: options.state,
      dataDir,
      audit,
      host: options.host,
      port: options.port,
      consoleDir: options.consoleDir,
      env: options.env,
      // Generated once under the data directory: sessions (and the embedded IdP's grants, sealed
      // with it) outlive a restart of paddock up.
      sessionKey: openLocalSessionKey(dataDir),
      embeddedIdpStateFile: join(dataDir, 'embedded-idp-state'),
    });
    undo.push(() => server.close());

    const releases = await openLocalReleases({ dataDir, state: options.state, store });
    const workspaces = await wireWorkspaces({
      server,
      store,
      state: options.state,
      configDir: options.configDir,
      dataDir,
      audit,
      activity,
      identityRotationMs: options.identityRotationMs,
      releases,
      ...(options.secrets ? { secrets: options.secrets } : {}),
    });
    undo.push(() => workspaces.close());
    const { lifecycle, broker, channel } = workspaces;

    // Releases reach supervisors over their channel; the reconciler applies and releases each
    // new desired state. Its first round runs before any workspace starts, so they start on a
    // signed release (docs/releases.md, docs/reconciler.md).
    const releaseService = releases.startService((name, version) => channel.notifyRelease(name, version));
    undo.push(async () => releaseService.stop());
    const reconciler = startLocalReconciler({
      store,
      audit,
      lifecycle,
      releases,
      service: releaseService,
      configDir: resolve(options.configDir),
      dataDir,
      providers: new Set(['local']),
      onState: (state) => workspaces.setState(state),
      ...(options.reconcileIntervalMs ? { intervalMs: options.reconcileIntervalMs } : {}),
    });
    undo.push(() => reconciler.stop());
    await reconciler.firstRound;

    await lifecycle.resume();
    const demo = bootstrap.workspace;
    if (demo && options.startDemoWorkspace !== false) {
      const current = await lifecycle.get(demo.id);
      if (current.state === 'created' || current.state === 'stopped')
        await lifecycle.start(demo.owner, demo.id);
      await channel.waitForConnection(demo.id, CONNECT_TIMEOUT_MS);
    }

    return {
      server,
      store,
      lifecycle,
      broker,
      channel,
      bootstrap,
      checkpointer,
      supervisorPid: workspaces.supervisorPid,
      releases,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
