import type { SandboxLimits } from './sandbox-types.ts';

// Limits as rlimits, set by the privileged launcher before it drops to the sandbox uid, so the
// agent cannot raise them (hard = soft). cgroup v2 controllers would be better for memory and
// pids, but a host may not delegate them (this one has no memory or pids controller in v2 and
// its v1 hierarchy belongs to the host), while rlimits work everywhere:
// - processes: RLIMIT_NPROC, counted per host uid; the uid is this sandbox's alone (sandbox-uid.ts),
//   so it bounds the sandbox as a whole;
// - openFiles: RLIMIT_NOFILE, per process;
// - memoryMiB: RLIMIT_DATA, per process (heap and private writable mappings). Not RLIMIT_AS:
//   runtimes reserve large address ranges they never touch (V8, Go, WebAssembly guard regions),
//   and an address-space cap breaks them long before memory is short. Also no core dumps: they
//   would write the agent's memory, placeholders and all, to disk.

/** Standalone defaults (`paddock run` without a profile); profiles override them. */
export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { processes: 512, openFiles: 4096, memoryMiB: 4096 };

/** The smallest values that still let a shell and git start. */
export const MIN_SANDBOX_LIMITS: SandboxLimits = { processes: 8, openFiles: 64, memoryMiB: 64 };

/** Fills defaults and checks bounds; a limit below the minimum would only produce confusing failures. */
export function resolveLimits(partial: Partial<SandboxLimits> = {}): SandboxLimits {
  const limits = { ...DEFAULT_SANDBOX_LIMITS, ...partial };
  for (const key of Object.keys(MIN_SANDBOX_LIMITS) as (keyof SandboxLimits)[]) {
    const value = limits[key];
    if (!Number.isInteger(value) || value < MIN_SANDBOX_LIMITS[key]) {
      throw new RangeError(
        `sandbox limit ${key} must be an integer of at least ${MIN_SANDBOX_LIMITS[key]}, got ${value}`,
      );
    }
  }
  return limits;
}

/** Descriptors bubblewrap opens for itself during setup, beyond those the launch holds. */
const SETUP_FD_HEADROOM = 64;

/**
 * The launcher's --rlimit arguments (sandbox-launch.c). `setupFds` is how many descriptors the
 * launch holds (one per workspace bind): RLIMIT_NOFILE bounds descriptor numbers, so a launch
 * holding more than openFiles would leave bubblewrap none (EMFILE). The launcher then allows
 * setupFds plus headroom, and landlock-exec lowers it to openFiles (soft = hard, which no
 * unprivileged process can raise again) after closing every inherited descriptor, right before
 * the command runs.
 */
export function rlimitArgs(limits: SandboxLimits, setupFds = 0): string[] {
  return [
    `nproc=${limits.processes}`,
    `nofile=${Math.max(limits.openFiles, setupFds + SETUP_FD_HEADROOM)}`,
    `data=${limits.memoryMiB * 1024 * 1024}`,
    'core=0',
  ].flatMap((value) => ['--rlimit', value]);
}
