import type { EffectiveDataScope } from './effective-scope.ts';
import { quoteAll } from './effective-scope.ts';
import type { WideningReport } from './widening-report.ts';

// spec.dataScope: the filesystem inside the sandbox. Paths are literal
// directories or files (no globs): a path covers itself and everything under it.

/** Collapses repeated slashes and drops a trailing one, so "/workspace/" and "/workspace" compare equal. */
function normalizePath(path: string): string {
  const collapsed = path.replace(/\/+/gu, '/');
  return collapsed.length > 1 && collapsed.endsWith('/') ? collapsed.slice(0, -1) : collapsed;
}

/**
 * Whether `inner` is `outer` or lies under it: "/workspace/src" is under "/workspace",
 * "/workspace-old" is not. A path containing a glob character is compared
 * literally, so "/*" is not under "/workspace" (fail closed).
 */
export function fsPathContains(outer: string, inner: string): boolean {
  const o = normalizePath(outer);
  const i = normalizePath(inner);
  return o === '/' || i === o || i.startsWith(`${o}/`);
}

/**
 * read: each child read path lies under a path the parent lets the agent read
 * (its read or write list: written paths are also readable). write: each child
 * write path lies under a parent write path. deny: every parent deny stays denied,
 * by the same path or one containing it; the child may add denies.
 */
export function checkDataScopeNarrow(
  child: EffectiveDataScope,
  parent: EffectiveDataScope,
  report: WideningReport,
): void {
  const base = ['spec', 'dataScope'];
  const readable = [...parent.read, ...parent.write];
  const extraReads = child.read.filter((path) => !readable.some((outer) => fsPathContains(outer, path)));
  if (extraReads.length > 0) {
    report.widens([...base, 'read'], 'spec.dataScope.read', `adds ${quoteAll(extraReads)}`, [
      ...base,
      'read',
      child.read.indexOf(extraReads[0]!),
    ]);
  }
  const extraWrites = child.write.filter(
    (path) => !parent.write.some((outer) => fsPathContains(outer, path)),
  );
  if (extraWrites.length > 0) {
    report.widens([...base, 'write'], 'spec.dataScope.write', `adds ${quoteAll(extraWrites)}`, [
      ...base,
      'write',
      child.write.indexOf(extraWrites[0]!),
    ]);
  }
  const dropped = parent.deny.filter((path) => !child.deny.some((outer) => fsPathContains(outer, path)));
  if (dropped.length > 0) {
    report.widens([...base, 'deny'], 'spec.dataScope.deny', `removes ${quoteAll(dropped)}`);
  }
}
