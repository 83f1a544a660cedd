import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  makeWorkspace,
  runInSandbox,
  type RunInSandboxOptions,
  type SandboxRun,
} from '../support/sandbox-harness.ts';

// Host-side bait for the attacks: secrets the sandbox must never read, placed where a careless
// sandbox would expose them and made world-readable, so only the sandbox (not file
// permissions) can be what stops the read.

export function marker(): string {
  return `PDK-REDTEAM-${randomBytes(8).toString('hex')}`;
}

/** A world-readable secret in a fake host home directory (/home/pdk-rt-XXXXXX/secret.txt). */
export function hostSecret(): { dir: string; file: string; marker: string; remove: () => void } {
  mkdirSync('/home', { recursive: true });
  const dir = mkdtempSync('/home/pdk-rt-');
  const value = marker();
  const file = join(dir, 'secret.txt');
  writeFileSync(file, `${value}\n`, { mode: 0o644 });
  return { dir, file, marker: value, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a shell script in a fresh writable workspace prepared by `prepare` (as host root). */
export async function inWorkspace(
  script: string | ((dir: string) => string),
  prepare: (dir: string) => void = () => {},
  options: Partial<RunInSandboxOptions> = {},
): Promise<SandboxRun & { dir: string; cleanup: () => void }> {
  const workspace = makeWorkspace('pdk-rt-ws-');
  prepare(workspace.dir);
  const text = typeof script === 'string' ? script : script(workspace.dir);
  const run = await runInSandbox(['/bin/sh', '-c', text], { ...options, workdir: workspace.dir });
  return { ...run, dir: workspace.dir, cleanup: workspace.remove };
}

/** Python that calls syscall(nr, args...) through ctypes and prints `errno=N` (0 on success). */
export function syscallProbe(nr: number, ...args: (number | string)[]): string[] {
  const list = args.map((arg) => (typeof arg === 'number' ? `ctypes.c_long(${arg})` : arg)).join(', ');
  const code = [
    'import ctypes, os',
    'libc = ctypes.CDLL(None, use_errno=True)',
    `r = libc.syscall(${nr}${list ? `, ${list}` : ''})`,
    'print("errno=%d" % (ctypes.get_errno() if r == -1 else 0))',
  ].join('\n');
  return ['/usr/bin/python3', '-c', code];
}

/** Runs one syscall probe in a throwaway sandbox; blocked when the call failed with EPERM (or `allowed`). */
export async function probeSyscall(
  nr: number,
  args: (number | string)[],
  refusals = [1, 38],
): Promise<{ blocked: boolean; evidence: string }> {
  const workspace = makeWorkspace('pdk-rt-sc-');
  try {
    const run = await runInSandbox(syscallProbe(nr, ...args), { workdir: workspace.dir });
    const errno = Number(/errno=(\d+)/.exec(run.stdout)?.[1] ?? Number.NaN);
    return {
      blocked: refusals.includes(errno),
      evidence: `syscall ${nr}: errno ${Number.isNaN(errno) ? `? (${run.stderr.trim()})` : errno}`,
    };
  } finally {
    workspace.remove();
  }
}
