import { PaddockError } from '../../core/index.ts';
import type { PolicyBlueprint, ProtectedPaths } from './bundle-types.ts';
import type { GeneratedPolicy } from './cedar-text.ts';
import { anyOf, cedarString, cedarWildcardJoin } from './cedar-text.ts';

// spec.dataScope (read_file, write_file) and the protected paths.
//
// A scope path names a directory tree: "/workspace" covers /workspace itself and everything
// beneath it, never "/workspace2". Scope paths are literal (a "*" in one is a character, not a
// wildcard). Request paths are canonical before they get here (pdp/request-context.ts), so plain
// string prefixes are exact. `deny` forbids both reading and writing and wins over any permit;
// a write scope is also readable; protected paths are never writable.

/** The blueprint schema's default when `dataScope` is omitted. */
export const DEFAULT_DATA_SCOPE = { read: ['/workspace'], write: [], deny: [] } as const;

function trimSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** `context.path` is `root` or beneath it. */
export function pathTreeCondition(root: string): string {
  const trimmed = trimSlash(root);
  if (trimmed === '/') return `context.path like "/*"`;
  return `(context.path == ${cedarString(trimmed)} || context.path like ${cedarWildcardJoin([`${trimmed}/`, ''])})`;
}

/**
 * A protected name under `root`: a directory ("x/") covers itself and its tree, a file only
 * itself. With `anyDepth` the name is protected in every directory below the root too.
 */
export function protectedCondition(root: string, name: string, anyDepth: boolean): string {
  const directory = name.endsWith('/');
  const bare = directory ? name.slice(0, -1) : name;
  const base = root === '/' ? '' : root;
  const conditions = [`context.path == ${cedarString(`${base}/${bare}`)}`];
  if (directory) conditions.push(`context.path like ${cedarWildcardJoin([`${base}/${bare}/`, ''])}`);
  if (anyDepth) {
    conditions.push(`context.path like ${cedarWildcardJoin([`${base}/`, `/${bare}`])}`);
    if (directory) conditions.push(`context.path like ${cedarWildcardJoin([`${base}/`, `/${bare}/`, ''])}`);
  }
  return anyOf(conditions);
}

/** Policies for `spec.dataScope` and the protected paths under its write scopes. */
export function compileFiles(blueprint: PolicyBlueprint, protectedPaths: ProtectedPaths): GeneratedPolicy[] {
  const scope = blueprint.dataScope ?? DEFAULT_DATA_SCOPE;
  const policies: GeneratedPolicy[] = [];
  const add = (kind: 'read' | 'write' | 'deny', paths: readonly string[]) => {
    paths.forEach((path, index) => {
      // A scope that is not absolute and canonical could never match a request path: for a
      // deny entry that would be a silent hole, so it is an error for every kind.
      if (
        !path.startsWith('/') ||
        path.includes('//') ||
        path.split('/').some((part) => part === '.' || part === '..')
      )
        throw new PaddockError(
          'PDK_POLICY_INVALID',
          `dataScope.${kind}[${index}]: "${path}" must be an absolute path without ".", ".." or "//"`,
        );
      policies.push({
        id: `dataScope.${kind}[${index}]`,
        effect: kind === 'deny' ? 'forbid' : 'permit',
        actions: kind === 'read' ? ['read_file'] : ['read_file', 'write_file'],
        condition: pathTreeCondition(path),
        reason: kind === 'deny' ? 'path_denied' : 'path_allowed',
        field: `spec.dataScope.${kind}[${index}]`,
      });
    });
  };
  add('read', scope.read ?? []);
  add('write', scope.write ?? []);
  add('deny', scope.deny ?? []);
  const roots = (scope.write ?? []).map(trimSlash);
  if (roots.length === 0) return policies;
  const protect = (id: string, name: string, anyDepth: boolean) => {
    policies.push({
      id,
      effect: 'forbid',
      actions: ['write_file'],
      condition: anyOf(roots.map((root) => protectedCondition(root, name, anyDepth))),
      reason: 'path_protected',
      field: 'spec.dataScope.write',
    });
  };
  for (const name of protectedPaths.top) protect(`protected[${name}]`, name, false);
  for (const name of protectedPaths.anyDepth) protect(`protected[**/${name}]`, name, true);
  return policies;
}
