import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type GitScanLimits,
  runSandbox,
  type SandboxLimits,
  startSandbox,
} from '../../src/supervisor/index.ts';
import type { DataScope, ReadOnlyBind } from '../../src/supervisor/index.ts';

// Runs commands inside REAL sandboxes for tests and the attack suite: root, bubblewrap,
// seccomp, Landlock and all. Nothing is faked; a host that cannot run a sandbox fails here
// with the launcher's own error (PDK_SANDBOX_*), never a skip.

/** The unprivileged owner of test workspaces: files it owns are idmapped to the sandbox uid. */
export const WORKSPACE_OWNER = 4242;

export interface SandboxRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly started: boolean;
  readonly uid: number;
}

export interface RunInSandboxOptions {
  readonly workdir: string;
  readonly dataScope?: DataScope;
  readonly limits?: Partial<SandboxLimits>;
  readonly policyPaths?: readonly string[];
  readonly hostEnv?: Record<string, string>;
  /** Kill the sandbox after this long. Default 20000 ms. */
  readonly timeoutMs?: number;
  /** Standard input for the command. Default: none (closed). */
  readonly input?: string;
  /** Join a real sandbox network (with its deny listener) instead of an empty namespace. */
  readonly network?: boolean;
  /** Called with the sandbox's host uid as soon as it is known. */
  readonly onUid?: (uid: number) => void;
  /** Bounds of the launch's search for nested git repositories. Default the launcher's. */
  readonly gitScanLimits?: GitScanLimits;
  /** Extra read-only binds (host → sandbox path). Default none. */
  readonly readOnlyBinds?: readonly ReadOnlyBind[];
}

export const WRITABLE_WORKSPACE: DataScope = { read: [], write: ['/workspace'], deny: [] };

/** A fresh workspace directory owned by WORKSPACE_OWNER; `remove()` deletes it. */
export function makeWorkspace(prefix = 'pdk-ws-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chownSync(dir, WORKSPACE_OWNER, WORKSPACE_OWNER);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `command` (argv) in a sandbox and collects its output. */
export async function runInSandbox(
  command: readonly string[],
  options: RunInSandboxOptions,
): Promise<SandboxRun> {
  const base = {
    command,
    workdir: options.workdir,
    dataScope: options.dataScope ?? WRITABLE_WORKSPACE,
    limits: options.limits,
    policyPaths: options.policyPaths,
    gitScanLimits: options.gitScanLimits,
    readOnlyBinds: options.readOnlyBinds,
    hostEnv: options.hostEnv ?? {},
    stdio: ['pipe', 'pipe', 'pipe'] as const,
  };
  let stdout = '';
  let stderr = '';
  let uid = -1;
  const collect = (sandbox: Awaited<ReturnType<typeof startSandbox>>) => {
    uid = sandbox.uid;
    options.onUid?.(uid);
    sandbox.child.stdout?.on('data', (chunk: Buffer) => {
      if (stdout.length < 1_000_000) stdout += chunk.toString();
    });
    sandbox.child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 1_000_000) stderr += chunk.toString();
    });
    sandbox.child.stdin?.end(options.input ?? '');
    const timer = setTimeout(() => sandbox.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    sandbox.exited.finally(() => clearTimeout(timer));
  };
  if (options.network) {
    let started = false;
    const result = await runSandbox({
      ...base,
      onStarted: (sandbox) => {
        started = true;
        collect(sandbox);
      },
    });
    // Let the pipes drain: 'close' of the child fires after its stdio closed.
    return { code: result.exitCode, stdout, stderr, started: started && result.started, uid };
  }
  const sandbox = await startSandbox(base);
  collect(sandbox);
  const exit = await sandbox.exited;
  return {
    code: exit.exitCode,
    stdout,
    stderr: exit.error ? `${stderr}${exit.error.message}` : stderr,
    started: exit.started,
    uid,
  };
}

/** Shorthand: a shell script in a throwaway writable workspace. */
export async function runShell(
  script: string,
  options: Partial<RunInSandboxOptions> = {},
): Promise<SandboxRun> {
  const workspace = options.workdir ? undefined : makeWorkspace();
  try {
    return await runInSandbox(['/bin/sh', '-c', script], {
      ...options,
      workdir: options.workdir ?? workspace!.dir,
    });
  } finally {
    workspace?.remove();
  }
}
