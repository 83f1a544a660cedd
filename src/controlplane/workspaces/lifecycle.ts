import { randomBytes } from 'node:crypto';
import { componentEvent, type LifecycleFailure, type OcsfEvent } from '../../audit/index.ts';
import { isPaddockError, PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { WorkspaceProvider, WorkspaceSpec } from '../../providers/index.ts';
import type { ChannelServer } from '../channel/channel-server.ts';
import type { IdentityRegistry } from '../channel/identity-registry.ts';
import type { Store, WorkspaceRecord } from '../store/store.ts';
import { ACTION_EVENTS, nextState, type WorkspaceAction } from './states.ts';

// The workspace lifecycle: each action is first claimed in the store (transitionWorkspace, so
// of two racing writers one wins and the other gets PDK_STORE_CONFLICT), then carried out by
// the workspace's provider, and recorded as an Application Lifecycle event naming the actor.
// A provider failure after the claim moves a starting workspace to `stopped` and is recorded
// as a failed transition.

const log = createLogger('workspaces');

/** The workspace as the API shows it. */
export interface WorkspaceView {
  readonly id: string;
  readonly owner: string;
  readonly profile: string;
  readonly provider: string;
  readonly state: string;
  readonly stateVersion: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Whether its supervisor is connected to the channel now. */
  readonly connected: boolean;
}

/** What revoking also ends, outside the lifecycle's reach (sessions and the broker's live terminals). */
export interface RevokeHooks {
  /** Ends every session of the user (the workspace's owner). */
  readonly endSessions?: (userId: string) => Promise<unknown>;
  /** Closes the broker's live terminals into the workspace. */
  readonly closeTerminals?: (workspaceId: string) => unknown;
}

export interface WorkspaceLifecycleOptions {
  readonly store: Store;
  readonly channel: ChannelServer;
  readonly identities: IdentityRegistry;
  /** Providers by name (a workspace's `provider` column). */
  readonly providers: ReadonlyMap<string, WorkspaceProvider>;
  /** The desired-state directory profiles and blueprints are read from. */
  readonly configDir: string;
  /** The blueprint a workspace's terminals run under (e.g. its owner's first assigned one). */
  readonly blueprintFor: (workspace: WorkspaceRecord) => string;
  /** The signed release channel a workspace follows (its profile's); none: it enforces configDir's blueprint. */
  readonly releasesFor?: (workspace: WorkspaceRecord) => WorkspaceSpec['releases'];
  /** Appends one audit event (the control plane's audit log); a failure fails the action. */
  readonly audit: (event: OcsfEvent) => Promise<unknown>;
  readonly revokeHooks?: RevokeHooks;
}

export interface NewWorkspaceInput {
  /** Default `ws-` and 12 random hex digits. A DNS label. */
  readonly id?: string;
  readonly owner: string;
  readonly profile: string;
  /** Default `local`. */
  readonly provider?: string;
}

export class WorkspaceLifecycle {
  readonly #options: WorkspaceLifecycleOptions;

  constructor(options: WorkspaceLifecycleOptions) {
    this.#options = options;
  }

  async get(id: string): Promise<WorkspaceView> {
    return this.#view(await this.#record(id));
  }

  /** Ordered by id; only the owner's when given. */
  async list(filter: { readonly owner?: string } = {}): Promise<WorkspaceView[]> {
    return (await this.#options.store.listWorkspaces(filter)).map((record) => this.#view(record));
  }

  /** Records a workspace in `created` and provisions its data. */
  async create(actor: string, input: NewWorkspaceInput): Promise<WorkspaceView> {
    const provider = this.#provider(input.provider ?? 'local');
    const record = await this.#options.store.createWorkspace({
      id: input.id ?? `ws-${randomBytes(6).toString('hex')}`,
      owner: input.owner,
      profile: input.profile,
      provider: provider.name,
      state: 'created',
    });
    let failure: LifecycleFailure | undefined;
    try {
      await provider.provision(this.#spec(record));
    } catch (error) {
      failure = failureOf(error, 'provision_failed');
    }
    await this.#audit('create', actor, record, 'created', failure);
    if (failure) throw providerError(record, 'create', failure);
    return this.#view(record);
  }

  /** Dispatches an action by name (for `POST /api/workspaces/:id/actions/:action`). */
  act(actor: string, id: string, action: WorkspaceAction): Promise<WorkspaceView> {
    switch (action) {
      case 'start':
        return this.start(actor, id);
      case 'stop':
        return this.stop(actor, id);
      case 'rebuild':
        return this.rebuild(actor, id);
      case 'revoke':
        return this.revoke(actor, id);
      case 'decommission':
        return this.decommission(actor, id);
    }
  }

  /** Issues a fresh channel identity and starts the supervisor with it. */
  start(actor: string, id: string): Promise<WorkspaceView> {
    return this.#transition(actor, id, 'start', async (record, provider) => {
      await this.#launch(record, provider);
    });
  }

  stop(actor: string, id: string): Promise<WorkspaceView> {
    return this.#transition(actor, id, 'stop', async (record, provider) => {
      await provider.stop(record.id);
      await this.#options.identities.deactivate(record.id);
    });
  }

  /** Recreates the workspace from its profile; a running one is stopped and started again. */
  rebuild(actor: string, id: string): Promise<WorkspaceView> {
    return this.#transition(actor, id, 'rebuild', async (record, provider) => {
      const wasRunning = record.state === 'running';
      if (wasRunning) await provider.stop(record.id);
      await provider.rebuild(this.#spec(record));
      if (wasRunning) await this.#launch(record, provider);
    });
  }

  /**
   * The kill switch: the identity is revoked for good and the channel closed (its terminals
   * end), the supervisor stopped, its credentials removed, and the owner's sessions and the
   * broker's terminals ended. Each step runs even if an earlier one failed.
   */
  revoke(actor: string, id: string): Promise<WorkspaceView> {
    return this.#transition(actor, id, 'revoke', async (record, provider) => {
      const hooks = this.#options.revokeHooks ?? {};
      const steps: [string, () => Promise<unknown> | unknown][] = [
        ['channel', () => this.#options.channel.revoke(record.id)],
        ['terminals', () => hooks.closeTerminals?.(record.id)],
        ['sessions', () => hooks.endSessions?.(record.owner)],
        ['supervisor', () => provider.stop(record.id)],
        ['credentials', () => provider.dropCredentials(record.id)],
      ];
      const failed: string[] = [];
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (error) {
          log.error(
            { workspace: record.id, step: name, error: (error as Error).message },
            'revoke step failed',
          );
          failed.push(name);
        }
      }
      if (failed.length > 0)
        throw new PaddockError(
          'PDK_WORKSPACE_PROVIDER',
          `revoke of ${record.id}: ${failed.join(', ')} failed`,
        );
    });
  }

  /** Removes the workspace's data; the record stays, in `decommissioned`. */
  decommission(actor: string, id: string): Promise<WorkspaceView> {
    return this.#transition(actor, id, 'decommission', async (record, provider) => {
      await provider.destroy(record.id);
      await this.#options.identities.forget(record.id);
    });
  }

  /**
   * After the control plane restarts: starts again every workspace the store says is running
   * but whose provider runs nothing (each with a fresh identity). Resolves to their ids; one
   * that fails to start is logged and left for its owner or an admin.
   */
  async resume(): Promise<string[]> {
    const resumed: string[] = [];
    for (const record of await this.#options.store.listWorkspaces()) {
      if (record.state !== 'running') continue;
      const provider = this.#options.providers.get(record.provider);
      if (!provider || provider.status(record.id) === 'running') continue;
      try {
        await this.#launch(record, provider);
        resumed.push(record.id);
      } catch (error) {
        log.error(
          { workspace: record.id, error: (error as Error).message },
          'workspace could not be resumed',
        );
      }
    }
    return resumed;
  }

  async #launch(record: WorkspaceRecord, provider: WorkspaceProvider): Promise<void> {
    const identity = await this.#options.identities.issue(record.id);
    await provider.start(this.#spec(record), identity, this.#options.channel.url);
  }

  async #transition(
    actor: string,
    id: string,
    action: WorkspaceAction,
    carryOut: (record: WorkspaceRecord, provider: WorkspaceProvider) => Promise<void>,
  ): Promise<WorkspaceView> {
    const current = await this.#record(id);
    const to = nextState(id, current.state, action);
    const provider = this.#provider(current.provider);
    const claimed = await this.#options.store.transitionWorkspace(
      id,
      current.state,
      to,
      current.stateVersion,
    );
    let failure: LifecycleFailure | undefined;
    try {
      await carryOut(current, provider);
    } catch (error) {
      failure = failureOf(error, `${action}_failed`);
    }
    let record = claimed;
    // A workspace that failed to start is not running.
    if (failure && to === 'running') {
      await provider.stop(id).catch(() => {});
      await this.#options.identities.deactivate(id).catch(() => {});
      record = await this.#options.store.transitionWorkspace(id, to, 'stopped', claimed.stateVersion);
    }
    await this.#audit(action, actor, record, `${current.state} → ${record.state}`, failure);
    if (failure) throw providerError(record, action, failure);
    return this.#view(record);
  }

  /**
   * Records the `workspace.created` event of a workspace whose row a crash left without it
   * (the process died between the two); does nothing when the event is in the store's log.
   * For recovery paths that find a workspace still `created` after a crash.
   */
  async recordLostCreation(actor: string, id: string): Promise<boolean> {
    const found = await this.#options.store.searchAuditLog({
      workspace: id,
      eventCode: ACTION_EVENTS.create,
      limit: 1,
    });
    if (found.length > 0) return false;
    await this.#audit('create', actor, await this.#record(id), 'created; recorded after a crash', undefined);
    return true;
  }

  async #audit(
    action: WorkspaceAction | 'create',
    actor: string,
    record: WorkspaceRecord,
    change: string,
    failure: LifecycleFailure | undefined,
  ): Promise<void> {
    await this.#options.audit(
      componentEvent({
        event: ACTION_EVENTS[action],
        componentId: record.id,
        workspaceId: record.id,
        user: { uid: actor },
        ...(failure ? { failure } : {}),
        message: `${actor} ${failure ? 'failed to' : 'did'} ${action} workspace ${record.id} of ${record.owner} (${change})`,
      }),
    );
  }

  async #record(id: string): Promise<WorkspaceRecord> {
    const record = await this.#options.store.getWorkspace(id);
    if (!record) throw new PaddockError('PDK_WORKSPACE_NOT_FOUND', `workspace ${id} not found`);
    return record;
  }

  #provider(name: string): WorkspaceProvider {
    const provider = this.#options.providers.get(name);
    if (!provider)
      throw new PaddockError(
        'PDK_WORKSPACE_PROVIDER',
        `no provider ${name} is configured in this control plane`,
      );
    return provider;
  }

  #spec(record: WorkspaceRecord): WorkspaceSpec {
    const releases = this.#options.releasesFor?.(record);
    return {
      id: record.id,
      owner: record.owner,
      profile: record.profile,
      blueprint: this.#options.blueprintFor(record),
      configDir: this.#options.configDir,
      ...(releases ? { releases } : {}),
    };
  }

  #view(record: WorkspaceRecord): WorkspaceView {
    return {
      id: record.id,
      owner: record.owner,
      profile: record.profile,
      provider: record.provider,
      state: record.state,
      stateVersion: record.stateVersion,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      connected: this.#options.channel.isConnected(record.id),
    };
  }
}

function failureOf(error: unknown, reasonCode: string): LifecycleFailure {
  return {
    reasonCode: isPaddockError(error) ? error.code.toLowerCase() : reasonCode,
    reason: (error as Error).message,
  };
}

function providerError(record: WorkspaceRecord, action: string, failure: LifecycleFailure): PaddockError {
  return new PaddockError(
    'PDK_WORKSPACE_PROVIDER',
    `${action} of workspace ${record.id} (provider ${record.provider}) failed: ${failure.reason}`,
  );
}
