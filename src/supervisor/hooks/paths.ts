import { posix } from 'node:path';

// Paths from tool inputs: resolved against the harness's working directory and normalized,
// so `/workspace/a/../../etc/passwd` is checked as /etc/passwd. Symlinks are not followed
// (the paths are inside the sandbox); the kernel sandbox enforces the final target.

/**
 * An absolute, canonical path (no ".", "..", "//" or trailing "/"), or null when `raw` is not a
 * usable path (empty, a NUL byte, relative without an absolute base, `~user`).
 * @example resolveToolPath('../x', '/workspace/a', '/home/agent') // '/workspace/x'
 */
export function resolveToolPath(raw: unknown, base: string, home: string): string | null {
  if (typeof raw !== 'string' || raw === '' || raw.includes('\0')) return null;
  let path = raw;
  if (path === '~' || path.startsWith('~/')) path = home + path.slice(1);
  else if (path.startsWith('~')) return null;
  if (!path.startsWith('/')) {
    if (!base.startsWith('/')) return null;
    path = posix.join(base, path);
  }
  return posix.resolve(path);
}

/**
 * The directory a glob pattern can reach: the pattern's literal leading segments resolved
 * against the search root (`../../etc/*.conf` under /workspace/a reaches /etc).
 * @example globRoot('src/**\/*.ts', '/workspace') // '/workspace/src'
 */
export function globRoot(pattern: string, root: string): string {
  const segments = pattern.split('/');
  const literal: string[] = [];
  for (const segment of segments.slice(0, -1)) {
    if (/[*?[\]{}]/.test(segment)) break;
    literal.push(segment);
  }
  const prefix = literal.join('/');
  if (pattern.startsWith('/')) return posix.resolve(prefix || '/');
  return posix.resolve(root, prefix);
}
