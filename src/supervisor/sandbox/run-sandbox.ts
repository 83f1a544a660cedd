import type { BlueprintRef, OcsfEvent } from '../../audit/index.ts';
import { createLogger } from '../../core/log.ts';
import { isPaddockError, PaddockError } from '../../core/errors.ts';
import { probeLandlock } from './kernel-features.ts';
import {
  type PreparedSandbox,
  prepareSandbox,
  type RunningSandbox,
  type SandboxOptions,
} from './launch-sandbox.ts';
import {
  createDenyListener,
  createSandboxNetwork,
  type DropCounters,
  type EgressListener,
  type SandboxNetwork,
} from './network/index.ts';
import type { GitHookChange } from './git-hook-report.ts';
import { kernelLogClockUs, readSeccompDenials, type SeccompDenial } from './seccomp-denials.ts';
import { hostSeccompArch } from './seccomp/syscall-table.ts';
import {
  commandExitedEvent,
  commandLaunchedEvent,
  egressDeniedEvent,
  firewallDropFinding,
  gitHooksFinding,
  newSandboxAuditContext,
  seccompDenialFinding,
  sandboxStartedEvent,
  sandboxStoppedEvent,
} from './sandbox-audit.ts';

// One sandbox run, end to end: its network and default-deny egress listener, the launch, the
// audit trail, and the teardown. This is `paddock run`'s engine and the local provider's unit.

const log = createLogger('sandbox');

/** At most this many egress.denied events per run; the rest are counted (bounded buffers). */
const MAX_DENIAL_EVENTS = 1000;

export interface RunSandboxOptions extends Omit<SandboxOptions, 'network'> {
  /** The blueprint the run follows; carried into every event. */
  readonly blueprint?: BlueprintRef;
  /** Receives each audit event; awaited, so a failing audit log stops the run (fail closed). */
  readonly audit?: (event: OcsfEvent) => Promise<unknown>;
  /** Supplies the network. Default: a new one per run. A pool's acquire() fits here. */
  readonly createNetwork?: () => Promise<SandboxNetwork>;
  /**
   * Carries the sandbox's traffic (the egress gateway). Default: the deny listener, which
   * refuses everything. Closed by the run.
   */
  readonly listener?: EgressListener;
  /**
   * Awaited after the sandbox's host uid is leased and before the launch, e.g. to create a
   * socket only that uid may connect to (the PDP socket). A rejection aborts the launch.
   */
  readonly beforeLaunch?: (uid: number) => Promise<void>;
  /** Called once the command runs, e.g. to forward signals to it. */
  readonly onStarted?: (sandbox: RunningSandbox) => void;
  /**
   * Default false: the promise resolves once the network is gone. true: it resolves as soon as
   * the command has exited and its audit events are written, and the network is removed by a
   * detached process that outlives this one (SandboxNetwork.closeDetached), so a CLI can exit
   * at once; leftovers of a teardown that was killed are the stale sweep's.
   */
  readonly detachNetworkTeardown?: boolean;
}

export interface SandboxRunResult {
  /** The command's exit code (128+n for signal n); 125 when the sandbox could not start. */
  readonly exitCode: number;
  readonly started: boolean;
  readonly durationMs: number;
  /** Packets the sandbox firewall refused, by kind. */
  readonly drops: DropCounters;
  /** Connections the egress listener refused. */
  readonly egressDenials: number;
  /** Syscalls the seccomp filter refused, as far as the kernel log shows (a lower bound). */
  readonly seccompDenials: readonly SeccompDenial[];
  /** Layers the blueprint waived and the kernel lacked (for the caller's warning). */
  readonly weakened: readonly string[];
  /**
   * Git hooks, code-running git config and `.git` pointers the run wrote beneath its writable
   * scopes (git-hook-report.ts): they act when the user next runs git there on the host.
   */
  readonly gitHooksWritten: readonly GitHookChange[];
}

/**
 * Runs `options.command` in a sandbox with a fresh network and returns how it ended.
 * Throws PaddockError (nothing started) when the host or the scope is unfit.
 */
export async function runSandbox(options: RunSandboxOptions): Promise<SandboxRunResult> {
  const ctx = newSandboxAuditContext(options.command, options.blueprint);
  const audit = options.audit ?? (async () => {});
  const weakened =
    options.allowMissing?.includes('landlock') && probeLandlock().status !== 'ok' ? ['landlock'] : [];
  for (const feature of weakened) {
    log.warn(
      { sandbox: ctx.sandboxId, feature, blueprint: options.blueprint?.name },
      'sandbox weakened: kernel feature missing, waived by blueprint',
    );
  }

  // The network builds in child processes (ip, nft) while this process prepares the sandbox.
  const building = (options.createNetwork ?? (() => createSandboxNetwork()))();
  let prepared: PreparedSandbox;
  try {
    prepared = prepareSandbox({ ...options, withNetwork: true });
  } catch (error) {
    building.then((network) => network.close()).catch(() => {});
    await audit(sandboxStartedEvent(ctx, (error as Error).message));
    throw error;
  }
  let network: SandboxNetwork;
  try {
    network = await building;
  } catch (error) {
    prepared.abandon();
    await audit(sandboxStartedEvent(ctx, (error as Error).message));
    throw error;
  }
  let listener: EgressListener | undefined;
  let egressDenials = 0;
  const pendingAudit: Promise<unknown>[] = [];
  try {
    listener =
      options.listener ??
      createDenyListener({
        onDenied: (denial) => {
          egressDenials++;
          if (egressDenials <= MAX_DENIAL_EVENTS)
            pendingAudit.push(audit(egressDeniedEvent(ctx, denial)).catch(() => {}));
        },
      });
    let sandbox: RunningSandbox;
    const launchedUs = kernelLogClockUs();
    try {
      await listener.listen(network);
      await options.beforeLaunch?.(prepared.uid);
      sandbox = prepared.launch({ netnsPath: network.netnsPath, env: network.env });
    } catch (error) {
      prepared.abandon();
      await audit(sandboxStartedEvent(ctx, (error as Error).message));
      throw error;
    }
    const pid = await sandbox.started.catch(() => undefined);
    if (pid !== undefined) {
      await audit(sandboxStartedEvent(ctx, undefined, weakened));
      await audit(commandLaunchedEvent(ctx, pid));
      options.onStarted?.(sandbox);
    }
    const exit = await sandbox.exited;
    if (!exit.started) {
      await audit(sandboxStartedEvent(ctx, exit.error?.message ?? 'setup failed'));
      throw exit.error ?? new PaddockError('PDK_SANDBOX_START');
    }
    // The counters come from an nft child process; the hook rescan runs meanwhile.
    const counting = network.dropCounters();
    const gitHooks = prepared.reportGitHooks();
    const drops = await counting;
    const arch = hostSeccompArch();
    const seccompDenials = arch ? readSeccompDenials(sandbox.uid, launchedUs, arch) : [];
    await audit(commandExitedEvent(ctx, pid, exit.exitCode, exit.durationMs));
    for (const finding of [
      firewallDropFinding(ctx, drops),
      seccompDenialFinding(ctx, seccompDenials),
      gitHooksFinding(ctx, gitHooks),
    ]) {
      if (finding) await audit(finding);
    }
    await Promise.all(pendingAudit);
    await audit(sandboxStoppedEvent(ctx, exit.exitCode));
    return {
      exitCode: exit.exitCode,
      started: true,
      durationMs: exit.durationMs,
      drops,
      egressDenials,
      seccompDenials,
      weakened,
      gitHooksWritten: gitHooks.changes,
    };
  } catch (error) {
    if (!isPaddockError(error))
      log.error({ sandbox: ctx.sandboxId, error: (error as Error).message }, 'sandbox run failed');
    throw error;
  } finally {
    await listener?.close().catch(() => {});
    if (options.detachNetworkTeardown) network.closeDetached();
    else
      await network
        .close()
        .catch((error: Error) =>
          log.error({ sandbox: ctx.sandboxId, error: error.message }, 'sandbox network teardown failed'),
        );
  }
}
