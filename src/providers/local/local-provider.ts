import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { componentEvent, type OcsfEvent } from '../../audit/index.ts';
import {
  type WorkspaceIdentity,
  type WorkspaceSupervisorConfig,
  writeIdentityFile,
} from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { ProviderStatus, WorkspaceProvider, WorkspaceSpec } from '../provider.ts';
import { provisionDirs, recreateHome, removeDirs, workspaceDirs } from './workspace-dirs.ts';

// The local provider: one supervisor process per running workspace on this host, run with
// the pinned Node (process.execPath). It is handed its identity and config as 0600 files under
// the data directory (never inside a sandbox), is restarted if it dies while the workspace
// should run, and is stopped with SIGTERM, then SIGKILL after the grace period.

const log = createLogger('provider-local');

/** The supervisor's entry point; spawned by path (providers never import the supervisor). */
export const SUPERVISOR_ENTRY = fileURLToPath(new URL('../../supervisor/workspace/main.ts', import.meta.url));

const RESTART_MIN_MS = 250;
const RESTART_MAX_MS = 10_000;
/** A supervisor that ran this long is healthy again: the backoff starts over. */
const HEALTHY_AFTER_MS = 30_000;

export interface LocalProviderOptions {
  /** Paddock's data directory; workspaces live under DATA_DIR/workspaces (workspace-dirs.ts). */
  readonly dataDir: string;
  /** Root-owned state directory the sandboxes use. Default the launcher's (/run/paddock), shared with `paddock run` so uid leases never collide. */
  readonly stateDir?: string;
  /** SIGTERM to SIGKILL. Default 10 s. */
  readonly stopGraceMs?: number;
  /** Receives supervisor.restarted events. */
  readonly audit?: (event: OcsfEvent) => Promise<unknown>;
  /** Extra environment for supervisors (e.g. PADDOCK_LOG). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The encrypted secret store (and its key file) written into every supervisor's config
   * (`WorkspaceSupervisorConfig.secrets`), resolved to absolute paths: each workspace's gateways
   * inject the blueprint's credentials from it. It must lie outside every workspace's workdir
   * and home (the supervisor refuses to start otherwise). Default none: credentialed services
   * fail closed.
   */
  readonly secrets?: { readonly file: string; readonly keyFile: string };
}

interface Supervised {
  readonly spec: WorkspaceSpec;
  child: ChildProcess | undefined;
  shouldRun: boolean;
  backoff: number;
  startedAt: number;
  restartTimer: NodeJS.Timeout | undefined;
  exited: Promise<void>;
}

export class LocalProvider implements WorkspaceProvider {
  readonly name = 'local';
  readonly #options: LocalProviderOptions;
  readonly #dataDir: string;
  readonly #secrets: WorkspaceSupervisorConfig['secrets'];
  readonly #running = new Map<string, Supervised>();

  constructor(options: LocalProviderOptions) {
    this.#options = options;
    this.#dataDir = resolve(options.dataDir);
    this.#secrets = options.secrets
      ? { file: resolve(options.secrets.file), keyFile: resolve(options.secrets.keyFile) }
      : undefined;
  }

  async provision(spec: WorkspaceSpec): Promise<void> {
    provisionDirs(this.#dataDir, spec.id);
  }

  async start(spec: WorkspaceSpec, identity: WorkspaceIdentity, channelUrl: string): Promise<void> {
    if (identity.workspaceId !== spec.id)
      throw new PaddockError(
        'PDK_WORKSPACE_PROVIDER',
        `local provider: identity of ${identity.workspaceId} given to ${spec.id}`,
      );
    const existing = this.#running.get(spec.id);
    if (existing?.shouldRun) await this.stop(spec.id);
    const dirs = provisionDirs(this.#dataDir, spec.id);
    writeIdentityFile(dirs.identityFile, identity);
    rmSync(`${dirs.identityFile}.next`, { force: true });
    const config: WorkspaceSupervisorConfig = {
      workspaceId: spec.id,
      channelUrl,
      identityFile: dirs.identityFile,
      configDir: resolve(spec.configDir),
      blueprint: spec.blueprint,
      profile: spec.profile,
      workdir: dirs.workspace,
      homeDir: dirs.home,
      ...(this.#options.stateDir ? { stateDir: this.#options.stateDir } : {}),
      auditLog: dirs.auditLog,
      providerPid: process.pid,
      ...(this.#secrets ? { secrets: this.#secrets } : {}),
      // Trusted metadata and the last good bundle live beside the identity, outside every sandbox.
      ...(spec.releases
        ? {
            releases: {
              channel: spec.releases.channel,
              rootFile: spec.releases.rootFile,
              stateDir: join(dirs.root, 'releases'),
            },
          }
        : {}),
    };
    writeFileSync(dirs.configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    const supervised: Supervised = {
      spec,
      child: undefined,
      shouldRun: true,
      backoff: RESTART_MIN_MS,
      startedAt: 0,
      restartTimer: undefined,
      exited: Promise.resolve(),
    };
    this.#running.set(spec.id, supervised);
    this.#spawn(supervised);
  }

  async stop(workspaceId: string): Promise<void> {
    const supervised = this.#running.get(workspaceId);
    if (!supervised) return;
    supervised.shouldRun = false;
    clearTimeout(supervised.restartTimer);
    const child = supervised.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), this.#options.stopGraceMs ?? 10_000);
      await supervised.exited;
      clearTimeout(killer);
    }
    this.#running.delete(workspaceId);
  }

  async rebuild(spec: WorkspaceSpec): Promise<void> {
    if (this.status(spec.id) === 'running')
      throw new PaddockError(
        'PDK_WORKSPACE_PROVIDER',
        `local provider: stop ${spec.id} before rebuilding it`,
      );
    recreateHome(this.#dataDir, spec.id);
  }

  async dropCredentials(workspaceId: string): Promise<void> {
    const dirs = workspaceDirs(this.#dataDir, workspaceId);
    rmSync(dirs.identityFile, { force: true });
    rmSync(`${dirs.identityFile}.next`, { force: true });
  }

  async destroy(workspaceId: string): Promise<void> {
    await this.stop(workspaceId);
    removeDirs(this.#dataDir, workspaceId);
  }

  status(workspaceId: string): ProviderStatus {
    const supervised = this.#running.get(workspaceId);
    if (supervised?.shouldRun) return 'running';
    return existsSync(workspaceDirs(this.#dataDir, workspaceId).root) ? 'stopped' : 'absent';
  }

  /** The supervisor's pid while one runs (for operators and tests). */
  pid(workspaceId: string): number | undefined {
    const child = this.#running.get(workspaceId)?.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#running.keys()].map((id) => this.stop(id)));
  }

  #spawn(supervised: Supervised): void {
    const dirs = workspaceDirs(this.#dataDir, supervised.spec.id);
    const logFd = openSync(dirs.logFile, 'a', 0o600);
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [SUPERVISOR_ENTRY, '--config', dirs.configFile], {
        stdio: ['ignore', logFd, logFd],
        env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...this.#options.env },
      });
    } finally {
      closeSync(logFd);
    }
    supervised.child = child;
    supervised.startedAt = Date.now();
    supervised.exited = new Promise((resolveExit) => {
      let gone = false;
      const onGone = (code: number | null, signal: NodeJS.Signals | null) => {
        if (gone) return;
        gone = true;
        resolveExit();
        if (supervised.child !== child) return;
        supervised.child = undefined;
        if (!supervised.shouldRun) return;
        log.warn({ workspace: supervised.spec.id, code, signal }, 'workspace supervisor died; restarting');
        this.#restartLater(supervised, code, signal);
      };
      child.once('exit', onGone);
      // A spawn that failed outright emits no 'exit'.
      child.once('error', (error) => {
        log.error({ workspace: supervised.spec.id, error: error.message }, 'supervisor spawn failed');
        if (child.pid === undefined) onGone(null, null);
      });
    });
  }

  #restartLater(supervised: Supervised, code: number | null, signal: NodeJS.Signals | null): void {
    if (Date.now() - supervised.startedAt > HEALTHY_AFTER_MS) supervised.backoff = RESTART_MIN_MS;
    const delay = supervised.backoff;
    supervised.backoff = Math.min(supervised.backoff * 2, RESTART_MAX_MS);
    supervised.restartTimer = setTimeout(() => {
      if (!supervised.shouldRun) return;
      this.#spawn(supervised);
      void this.#options
        .audit?.(
          componentEvent({
            event: 'supervisor.restarted',
            componentId: `${supervised.spec.id}/${supervised.child?.pid ?? 0}`,
            workspaceId: supervised.spec.id,
            message: `supervisor of ${supervised.spec.id} died (${signal ?? `exit ${code}`}) and was restarted`,
          }),
        )
        .catch((error: Error) => log.error({ error: error.message }, 'audit append failed'));
    }, delay);
  }
}
