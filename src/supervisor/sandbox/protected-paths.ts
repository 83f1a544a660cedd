import { join, relative } from 'node:path';
import { PROTECTED_NAMES } from '../../policy/index.ts';
import type { GitScan } from './git-scan.ts';
import type { HostProbe } from './host-probe.ts';

// Protected paths: files that would let an agent widen its own authority or run code outside
// the sandbox later (DESIGN.md §5 invariant 4): harness config and hooks, git hooks and config
// (core.hooksPath, core.fsmonitor run code on the user's next `git status`), shell rc files,
// MCP server lists. They are never writable, even beneath a writable scope.
//
// How: each one is bound read-only over itself. One that does not exist yet is created first
// as an empty placeholder (a directory or a file) and bound read-only too, so the agent cannot
// create it either; a mount point can be neither removed nor renamed (EBUSY). The launcher
// removes the placeholders it created when the sandbox ends, if they are still empty.
// A symlink at a protected name refuses the launch: binding it would bind whatever it points at.
//
// Repositories nested anywhere beneath a writable scope (a vendored checkout, a submodule) are
// found by a bounded walk (git-scan.ts) and protected the same way: `.git` pinned, hooks and
// config read-only, a `.git` pointer file read-only, plus each submodule git directory kept in
// `.git/modules`.

// The list itself lives with the policy compiler, which compiles it into every bundle too.
export { PROTECTED_NAMES };

/** Inside an existing `.git` directory. `.git` itself stays writable (commits write objects). */
export const PROTECTED_GIT_NAMES = ['hooks/', 'config'] as const;

export interface ProtectedEntry {
  /** Path on the host. */
  readonly host: string;
  /** Path inside the sandbox. */
  readonly dest: string;
  /** Whether the launcher must create it (empty) before binding. */
  readonly create?: 'dir' | 'file';
}

export interface ProtectedPlan {
  /** Read-only self-binds, in mount order. */
  readonly readOnly: ProtectedEntry[];
  /** Writable self-binds that pin a directory in place (`.git`), mounted before the read-only ones. */
  readonly pinned: ProtectedEntry[];
  /** Symlinks found at protected names: the launch must refuse. */
  readonly symlinks: string[];
}

function entryFor(probe: HostProbe, host: string, dest: string, name: string, plan: ProtectedPlan): void {
  const isDir = name.endsWith('/');
  const info = probe(host);
  if (info.kind === 'symlink') plan.symlinks.push(dest);
  else if (info.kind === 'missing') plan.readOnly.push({ host, dest, create: isDir ? 'dir' : 'file' });
  else plan.readOnly.push({ host, dest });
}

/**
 * The protected entries beneath one writable scope root (`hostRoot` appears at `destRoot`).
 * @example protectedEntries(probeHostPath, '/home/alice/proj', '/workspace')
 */
export function protectedEntries(probe: HostProbe, hostRoot: string, destRoot: string): ProtectedPlan {
  const plan: ProtectedPlan = { readOnly: [], pinned: [], symlinks: [] };
  for (const raw of PROTECTED_NAMES) {
    const name = raw.replace(/\/$/, '');
    entryFor(probe, join(hostRoot, name), join(destRoot, name), raw, plan);
  }
  const git = probe(join(hostRoot, '.git'));
  const gitHost = join(hostRoot, '.git');
  const gitDest = join(destRoot, '.git');
  if (git.kind === 'symlink') plan.symlinks.push(gitDest);
  else if (git.kind === 'file') {
    // A worktree or submodule: `.git` is a pointer file ("gitdir: …"); redirecting it is the attack.
    plan.readOnly.push({ host: gitHost, dest: gitDest });
  } else if (git.kind === 'dir') {
    // Pinning `.git` as a mount point stops `mv .git .git-old && git init` from escaping the binds.
    plan.pinned.push({ host: gitHost, dest: gitDest });
    for (const raw of PROTECTED_GIT_NAMES) {
      const name = raw.replace(/\/$/, '');
      entryFor(probe, join(gitHost, name), join(gitDest, name), raw, plan);
    }
  }
  // No `.git` yet: the agent may `git init`; that repository is agent-authored (docs/sandbox.md).
  return plan;
}

/**
 * The protected entries of every repository a scan found beneath one writable scope root,
 * except the root's own `.git` (protectedEntries covers it); its submodule git directories are
 * included. Pins come first in `pinned`, so mounting pinned before readOnly keeps each hooks
 * and config bind on top of its `.git` bind.
 */
export function nestedGitEntries(
  probe: HostProbe,
  scan: GitScan,
  hostRoot: string,
  destRoot: string,
): ProtectedPlan {
  const plan: ProtectedPlan = { readOnly: [], pinned: [], symlinks: [] };
  const top = join(hostRoot, '.git');
  const destOf = (host: string) => join(destRoot, relative(hostRoot, host));
  const protectGitDir = (gitDir: string) => {
    for (const raw of PROTECTED_GIT_NAMES) {
      const name = raw.replace(/\/$/, '');
      entryFor(probe, join(gitDir, name), destOf(join(gitDir, name)), raw, plan);
    }
  };
  for (const link of scan.symlinks) if (link !== top) plan.symlinks.push(destOf(link));
  for (const gitDir of scan.dotGitDirs) {
    if (gitDir === top) continue;
    plan.pinned.push({ host: gitDir, dest: destOf(gitDir) });
    protectGitDir(gitDir);
  }
  // Inside a pinned `.git`: no pin of their own, their hooks and config are what run.
  for (const gitDir of scan.moduleGitDirs) protectGitDir(gitDir);
  for (const pointer of scan.pointerFiles)
    if (pointer !== top) plan.readOnly.push({ host: pointer, dest: destOf(pointer) });
  return plan;
}
