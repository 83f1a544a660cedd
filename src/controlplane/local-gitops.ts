import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { OcsfEvent } from '../audit/index.ts';
import { type DesiredState, releaseChannelOf } from '../config/index.ts';
import { createLogger } from '../core/log.ts';
import {
  channelRelease,
  lifecycleActions,
  type ReconcileOutcome,
  watchAndApply,
} from './reconciler/index.ts';
import {
  type AttestationStore,
  type ChannelSettings,
  type CompiledRelease,
  compileRepository,
  createReleaseEndpoint,
  openReleaseRepository,
  type ReleaseEndpoint,
  type ReleaseRepository,
  type ReleaseService,
  type Signer,
  startReleaseService,
} from './releases/index.ts';
import type { Store, WorkspaceRecord } from './store/store.ts';
import type { WorkspaceLifecycle } from './workspaces/index.ts';

// GitOps in `paddock up`: the policy release repository under DATA_DIR/releases, served to
// supervisors over their channel, and the reconciler following the desired-state directory.
// Each workspace follows its profile's release channel (`spec.releaseChannel`, default the
// first channel paddock.yaml declares, canary), so its supervisor enforces a signed release, not
// the bundle it would compile itself. The reconciler releases every new commit to that first
// channel; later channels (stable) move only by `paddock policy promote` and `cosign`.
//
//   const releases = await openLocalReleases({ dataDir, state, store });
//   ... ChannelServer.start({ releases: releases.endpoint, ... })
//   const service = releases.startService((channel, version) => channel.notifyRelease(channel, version));
//   const reconciler = startLocalReconciler({ store, audit, lifecycle, releases, configDir, ... });
//   await reconciler.firstRound;   ...   await reconciler.stop(); service.stop();

const log = createLogger('gitops');

/** The channels when paddock.yaml declares none (its schema default). */
export const DEFAULT_CHANNELS: readonly ChannelSettings[] = [
  { name: 'canary', threshold: 1 },
  { name: 'stable', threshold: 1 },
];

/** How often `paddock up` looks at the desired-state directory (hashing a local directory is cheap). */
const DEFAULT_RECONCILE_MS = 5_000;

/** What a workspace's supervisor is told to follow (WorkspaceSpec.releases). */
export interface ReleaseFollow {
  readonly channel: string;
  readonly rootFile: string;
}

export interface LocalReleases {
  readonly repository: ReleaseRepository;
  /** Serves release files over the channel and keeps attestations (ChannelServer's `releases`). */
  readonly endpoint: ReleaseEndpoint;
  /** The channel the reconciler releases to: the first one declared. */
  readonly releaseChannel: string;
  /** A file holding the channel's current root.json: the trust anchor a starting workspace is given. */
  rootFileFor(channel: string): string;
  /** The channel a workspace follows (its profile's `releaseChannel`) and that channel's anchor. */
  followFor(state: DesiredState, workspace: WorkspaceRecord): ReleaseFollow;
  /** Re-signs timestamps on a timer and tells supervisors of every channel change. */
  startService(notify: (channel: string, version: number) => void): ReleaseService;
}

/** Opens DATA_DIR/releases with the channels paddock.yaml declares (keys and first roots created once). */
export async function openLocalReleases(options: {
  readonly dataDir: string;
  readonly state: DesiredState;
  /** Where supervisors' attestations are kept (release_attestations). */
  readonly store: AttestationStore;
}): Promise<LocalReleases> {
  const dir = join(resolve(options.dataDir), 'releases');
  const channels = options.state.platform?.value.spec.releases.channels ?? DEFAULT_CHANNELS;
  const repository = openReleaseRepository({ dir, channels });
  await repository.ready();
  return releasesOver({ repository, dir, channels, store: options.store });
}

/**
 * The releases of an open repository at `dir`: its endpoint (attestations in the store),
 * trust anchors (dir/anchors) and each workspace's channel. `paddock serve` uses it too, over its
 * replica's copy of the store's repository (cluster/cluster-releases.ts).
 */
export function releasesOver(options: {
  readonly repository: ReleaseRepository;
  readonly dir: string;
  readonly channels: readonly ChannelSettings[];
  readonly store: AttestationStore;
}): LocalReleases {
  const { repository, dir, channels } = options;
  const endpoint = createReleaseEndpoint({ repository, attestations: options.store });
  const releaseChannel = (channels[0] as ChannelSettings).name;
  const rootFileFor = (channel: string) => {
    const root = repository.trustedRoot(channel);
    const anchors = join(dir, 'anchors');
    mkdirSync(anchors, { recursive: true, mode: 0o700 });
    const file = join(anchors, `${channel}.root.json`);
    if (!existsSync(file) || !readFileSync(file).equals(root)) {
      writeFileSync(`${file}.tmp`, root, { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    }
    return file;
  };
  return {
    repository,
    endpoint,
    releaseChannel,
    rootFileFor,
    followFor(state, workspace) {
      const channel = releaseChannelOf(state, workspace.profile);
      return { channel, rootFile: rootFileFor(channel) };
    },
    startService: (notify) => startReleaseService({ repository, notify }),
  };
}

export interface LocalReconciler {
  /** Settles after the first round (applied, nothing to do, or failed and logged). */
  readonly firstRound: Promise<void>;
  /** Stops polling and waits for a round in progress to end. */
  stop(): Promise<void>;
}

export interface LocalReconcilerOptions {
  readonly store: Store;
  readonly audit: (event: OcsfEvent) => Promise<unknown>;
  readonly lifecycle: WorkspaceLifecycle;
  readonly releases: LocalReleases;
  /** Told of a new release, so supervisors hear of it now rather than at the next tick. */
  readonly service: ReleaseService;
  /** The desired-state directory (a plain directory, or the top of a Git checkout). */
  readonly configDir: string;
  readonly dataDir: string;
  /** The providers this control plane runs: workspaces of other providers are not created. */
  readonly providers: ReadonlySet<string>;
  /** The validated desired state of each round, before anything is applied. */
  readonly onState: (state: DesiredState) => void;
  /** Default 5 s. */
  readonly intervalMs?: number;
}

/**
 * Runs the reconciler on the desired-state directory until stopped. After the first round,
 * every channel some workspace follows and that has never had a release gets the reconciler's
 * release promoted into it, signed with one key: a channel needing more signers is left
 * pending, with a log line naming the command that co-signs it.
 */
export function startLocalReconciler(options: LocalReconcilerOptions): LocalReconciler {
  const controller = new AbortController();
  const { releases } = options;
  let state: DesiredState | undefined;
  let checked: CompiledRelease | undefined;
  let settleFirst!: () => void;
  const firstRound = new Promise<void>((resolveFirst) => {
    settleFirst = resolveFirst;
  });
  let lastError: string | undefined;
  const afterRound = async (outcome?: ReconcileOutcome) => {
    if (outcome) lastError = undefined;
    if (outcome?.applied || outcome?.resumed)
      log.info(
        {
          commit: outcome.planned.plan.commit,
          steps: outcome.planned.plan.steps.map((step) => step.kind).join(' '),
          approvedBy: outcome.applied?.approvedBy ?? outcome.resumed?.approvedBy,
        },
        'desired state applied',
      );
    if (state)
      await seedFollowedChannels(state, {
        store: options.store,
        releases,
        signer: (channel) => releases.repository.defaultSigners(channel)[0],
        cosign: (channel) =>
          `paddock policy cosign --channel ${channel} --sign-with ${join(resolve(options.dataDir), 'releases', 'keys', channel, 'signer-2.pem')} --data-dir ${resolve(options.dataDir)}`,
      }).catch((error: Error) =>
        log.error({ error: error.message }, 'seeding the followed release channels failed'),
      );
    await options.service.tick();
    settleFirst();
  };
  const running = watchAndApply({
    store: options.store,
    audit: options.audit,
    actions: lifecycleActions(options.lifecycle, {
      release: channelRelease({
        repository: releases.repository,
        channel: releases.releaseChannel,
        gitDir: options.configDir,
        directory: options.configDir,
        precompiled: (commit) => (checked?.commit === commit ? checked : undefined),
      }),
    }),
    source: { kind: 'directory', dir: options.configDir },
    // A commit whose bundles do not compile (Cedar that does not parse) is refused before an
    // apply is recorded: what is in force stays, and the next good save is released.
    // The compiled release is kept for the release step, which then publishes exactly what was
    // checked even if the directory is saved again in between.
    precheck: (planned) => {
      if (planned.plan.steps.some((step) => step.kind === 'release'))
        checked = compileRepository(
          { state: planned.state, blueprints: planned.blueprints },
          planned.plan.commit,
        );
    },
    providers: options.providers,
    fallbackApprover: `${userInfo().username} (paddock up)`,
    intervalMs: options.intervalMs ?? DEFAULT_RECONCILE_MS,
    signal: controller.signal,
    onState: (next) => {
      state = next;
      options.onState(next);
    },
    onStep: async (progress) => {
      if (progress.step.kind === 'release') await options.service.tick();
    },
    onReconciled: (outcome) => void afterRound(outcome),
    onError: (error) => {
      // The same failure every poll (a file saved half-edited) is logged once, not every 5 s.
      const message = (error as Error).message;
      if (message !== lastError)
        log.error(
          { error: message, code: (error as { code?: string }).code },
          'reconcile failed; what is in force stays, retrying on the next poll',
        );
      lastError = message;
      void afterRound();
    },
  });
  return {
    firstRound,
    async stop() {
      controller.abort();
      await running;
      settleFirst();
    },
  };
}

/**
 * A channel a workspace follows that never had a release gets the reconciler's channel's
 * release promoted into it (the same bundle hashes), signed with one of its keys (`signer`).
 * A channel needing more signatures is left pending, logged with what completes it (`cosign`).
 * Returns the channels changed. `paddock serve`'s leader runs it too (cluster-releases.ts).
 */
export async function seedFollowedChannels(
  state: DesiredState,
  parts: {
    readonly store: Pick<Store, 'listWorkspaces'>;
    readonly releases: LocalReleases;
    readonly signer: (channel: string) => Signer | undefined;
    readonly cosign: (channel: string) => string;
  },
): Promise<string[]> {
  const { repository, releaseChannel } = parts.releases;
  if (repository.status(releaseChannel).targetsVersion === 0) return [];
  const followed = new Set<string>();
  for (const workspace of await parts.store.listWorkspaces())
    if (workspace.state !== 'revoked' && workspace.state !== 'decommissioned')
      followed.add(parts.releases.followFor(state, workspace).channel);
  const changed: string[] = [];
  for (const channel of followed) {
    if (channel === releaseChannel) continue;
    const status = repository.status(channel);
    if (status.targetsVersion > 0 || status.pending) continue;
    const signer = parts.signer(channel);
    const outcome = await repository.promote({
      from: releaseChannel,
      to: channel,
      signers: signer ? [signer] : [],
    });
    changed.push(channel);
    if (outcome.status === 'pending')
      log.warn(
        {
          channel,
          signatures: outcome.signatures,
          needed: outcome.needed,
          run: parts.cosign(channel),
        },
        `the first release of ${channel} waits for signatures: its workspaces deny everything until a second key holder co-signs it`,
      );
    else
      log.info(
        { channel, release: outcome.version },
        `first release of ${channel} promoted from ${releaseChannel}`,
      );
  }
  return changed;
}
