import { lstatSync, readlinkSync } from 'node:fs';

// What the mount planner needs to know about a host path, read with lstat so a symlink is
// reported as a symlink and never silently followed by the privileged launcher.

export type HostPathKind = 'dir' | 'file' | 'symlink' | 'missing' | 'other';

export interface HostPathInfo {
  readonly kind: HostPathKind;
  readonly uid: number;
  readonly gid: number;
  /** For a symlink, what it points at. */
  readonly target?: string;
}

/** Looks at one host path; the planner takes this as a parameter so tests can feed it. */
export type HostProbe = (hostPath: string) => HostPathInfo;

export const probeHostPath: HostProbe = (hostPath) => {
  try {
    const stat = lstatSync(hostPath);
    const kind: HostPathKind = stat.isSymbolicLink()
      ? 'symlink'
      : stat.isDirectory()
        ? 'dir'
        : stat.isFile()
          ? 'file'
          : 'other';
    const target = kind === 'symlink' ? readlinkSync(hostPath) : undefined;
    return { kind, uid: stat.uid, gid: stat.gid, target };
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' ||
      (error as NodeJS.ErrnoException).code === 'ENOTDIR'
    ) {
      return { kind: 'missing', uid: -1, gid: -1 };
    }
    throw error;
  }
};
