import {
  chownSync,
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmdirSync,
  unlinkSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { ProtectedEntry } from './protected-paths.ts';

// Creates the empty placeholders that stop an agent from creating a protected path (see
// protected-paths.ts), and removes them afterwards. Runs as root inside directories the agent
// could write in an earlier run, so nothing here follows a symlink: mkdir and O_EXCL creation
// fail on an existing symlink, and the planner already refused symlinked parents.

export interface CreatedPlaceholder {
  readonly path: string;
  readonly kind: 'dir' | 'file';
}

/** Creates each missing placeholder, owned like its parent directory so the user can remove it. */
export function createPlaceholders(entries: readonly ProtectedEntry[]): CreatedPlaceholder[] {
  const created: CreatedPlaceholder[] = [];
  try {
    for (const entry of entries) {
      if (!entry.create) continue;
      const parent = lstatSync(dirname(entry.host));
      if (!parent.isDirectory()) throw new Error(`${dirname(entry.host)} is not a directory`);
      if (entry.create === 'dir') mkdirSync(entry.host, { mode: 0o755 });
      else closeSync(openSync(entry.host, 'wx', 0o644));
      created.push({ path: entry.host, kind: entry.create });
      chownSync(entry.host, parent.uid, parent.gid);
    }
  } catch (error) {
    removePlaceholders(created);
    throw error;
  }
  return created;
}

/** Removes the placeholders that are still empty (they were read-only inside, so they should be). */
export function removePlaceholders(created: readonly CreatedPlaceholder[]): void {
  for (const { path, kind } of [...created].reverse()) {
    try {
      const stat = lstatSync(path);
      if (kind === 'dir' && stat.isDirectory() && readdirSync(path).length === 0) rmdirSync(path);
      else if (kind === 'file' && stat.isFile() && stat.size === 0) unlinkSync(path);
    } catch {
      // Already gone, or not empty: leave it for the user.
    }
  }
}
