import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EventLogging, OcsfEvent } from '../../audit/index.ts';
import type { WorkspaceSupervisorConfig } from '../../core/channel/index.ts';
import { loadRepository, POLICY_ENTRIES, resolveBlueprint } from '../../config/index.ts';
import { PaddockError } from '../../core/errors.ts';
import type { ReviewGate } from '../../policy/index.ts';
import type { SecretStore } from '../egress/index.ts';
import type { PolicyHolder } from '../policy/index.ts';
import type { SandboxTerminalOptions } from './pty-terminal.ts';

// What every terminal of a workspace runs under: the blueprint and profile the provider named,
// read from the desired-state directory once at supervisor start, and the workspace's own
// persistent directories. The same inputs `paddock run` takes, with the workspace's home.

/** Where `paddock-try` (asks the PDP socket about a call, docs/workspaces.md) appears in every terminal. */
export const TRY_SCRIPT_SANDBOX_PATH = '/etc/paddock-try';
const TRY_SCRIPT_SOURCE = new URL('./paddock-try.pl', import.meta.url).pathname;

/**
 * Copies `paddock-try` into the workspace's root-owned directory (beside its audit log; 0711 up
 * to it, so the sandbox's uid can reach the bind source), read-only, and returns its host path.
 */
function installTryScript(config: WorkspaceSupervisorConfig): string {
  const dir = join(dirname(config.auditLog), 'tools');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const path = join(dir, 'paddock-try');
  copyFileSync(TRY_SCRIPT_SOURCE, path);
  chmodSync(path, 0o555);
  return path;
}

/**
 * What every event's redaction needs from the blueprint: its `logging`, and the names of the
 * credentials its services inject (their values are scrubbed from every event).
 */
export async function loadWorkspaceLogging(
  config: WorkspaceSupervisorConfig,
): Promise<{ readonly logging?: EventLogging; readonly credentialNames: readonly string[] }> {
  const loaded = await loadRepository(config.configDir);
  const { spec } = resolveBlueprint(loaded.state, config.blueprint).blueprint;
  return {
    ...(spec.logging ? { logging: spec.logging } : {}),
    credentialNames: (spec.services ?? []).flatMap((service) =>
      service.credential ? [service.credential] : [],
    ),
  };
}

/** Environment the shell starts with (only terminal and locale variables pass into the sandbox). */
const TERMINAL_ENV = { TERM: 'xterm-256color', LANG: 'C.UTF-8' } as const;

export type TerminalRunFor = (userId: string) => SandboxTerminalOptions['run'];

/**
 * Loads the workspace's blueprint and profile; the result gives the run options of a terminal
 * opened for a user. PDK_BLUEPRINT_NOT_FOUND, PDK_PROFILE_NOT_FOUND, PDK_CONFIG_INVALID.
 */
export async function loadWorkspaceSandbox(
  config: WorkspaceSupervisorConfig,
  audit: (event: OcsfEvent) => Promise<unknown>,
  /** Where review-gated calls are held (ChannelReviewGate: the control plane's queue). */
  reviewGate?: ReviewGate,
  /** The released policy in force (config.releases); every terminal follows it. */
  appliedPolicy?: PolicyHolder,
  /** The workspace's secret store (config.secrets): its gateways inject the services' credentials. */
  secrets?: SecretStore,
): Promise<TerminalRunFor> {
  const loaded = await loadRepository(config.configDir);
  const resolved = resolveBlueprint(loaded.state, config.blueprint);
  const profile = loaded.state.profiles.get(config.profile)?.value;
  if (!profile)
    throw new PaddockError(
      'PDK_PROFILE_NOT_FOUND',
      `profile "${config.profile}" not found in ${config.configDir}`,
    );
  const { limits, size } = profile.spec;
  const tryScript = installTryScript(config);
  const { blueprint } = resolved;
  return (userId) => ({
    workdir: config.workdir,
    home: config.homeDir,
    dataScope: blueprint.spec.dataScope ?? { read: ['/workspace'], write: [], deny: [] },
    allowMissing: blueprint.spec.sandbox?.allowMissing ?? [],
    limits: {
      processes: limits.processes,
      openFiles: limits.openFiles,
      memoryMiB: limits.memoryMiB ?? size.memoryMiB,
    },
    policyPaths: POLICY_ENTRIES.map((entry) => join(config.configDir, entry)),
    hostEnv: TERMINAL_ENV,
    readOnlyBinds: [{ host: tryScript, dest: TRY_SCRIPT_SANDBOX_PATH }],
    resolved,
    policies: loaded.state.policies,
    user: userId,
    workspaceId: config.workspaceId,
    ...(config.stateDir ? { stateDir: config.stateDir } : {}),
    // The PDP socket, hooks, MCP and egress gateways hold `review` decisions here, with the
    // terminal's user as the requester, as `paddock run` does with its local queue.
    ...(reviewGate ? { reviewGate } : {}),
    ...(appliedPolicy ? { appliedPolicy } : {}),
    ...(secrets ? { secrets } : {}),
    audit,
  });
}
