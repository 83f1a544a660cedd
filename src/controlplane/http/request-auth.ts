import type { IncomingMessage } from 'node:http';
import { PaddockError } from '../../core/errors.ts';
import { sameUser } from '../../policy/index.ts';
import type { AuthenticatedSession, SessionManager } from '../sessions/session-manager.ts';
import type { Store } from '../store/store.ts';
import { readCookies, SESSION_COOKIE } from './cookies.ts';
import type { Access, Route } from './route-table.ts';

// Who is calling and whether they may: the bearer token (CLI) or the session cookie (console),
// the CSRF rule for cookie-borne requests, and the route's access level.

export interface Caller {
  readonly authenticated: AuthenticatedSession | undefined;
  readonly via: 'cookie' | 'bearer' | undefined;
  /** Whether the request carried the session cookie (and no bearer token). */
  readonly cookieBorne: boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Resolves the caller; a bearer token wins over the cookie (and makes the request not cookie-borne). */
export async function identifyCaller(req: IncomingMessage, sessions: SessionManager): Promise<Caller> {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    const authenticated = match ? await sessions.authenticate(match[1] as string) : undefined;
    return { authenticated, via: authenticated ? 'bearer' : undefined, cookieBorne: false };
  }
  const token = readCookies(req).get(SESSION_COOKIE);
  if (token === undefined) return { authenticated: undefined, via: undefined, cookieBorne: false };
  const authenticated = token ? await sessions.authenticate(token) : undefined;
  return { authenticated, via: authenticated ? 'cookie' : undefined, cookieBorne: true };
}

/**
 * CSRF: a state-changing request carrying the session cookie must come from the console itself
 * (Origin equal to the public origin). Bearer requests cannot be forged cross-site and skip it.
 */
export function checkOrigin(req: IncomingMessage, caller: Caller, publicOrigin: string): void {
  if (SAFE_METHODS.has(req.method ?? 'GET') || !caller.cookieBorne) return;
  const origin = req.headers.origin;
  if (origin !== publicOrigin)
    throw new PaddockError(
      'PDK_AUTH_ORIGIN',
      `${req.method} with the session cookie from origin ${origin ?? '(none)'} refused: only ${publicOrigin} may`,
    );
}

/** Enforces the route's access level; throws PDK_AUTH_REQUIRED or PDK_AUTH_FORBIDDEN. */
export async function checkAccess(
  route: Pick<Route, 'access' | 'adminAllowed' | 'method' | 'path'>,
  params: Readonly<Record<string, string>>,
  caller: Caller,
  store: Store,
): Promise<void> {
  const access: Access = route.access;
  if (access === 'anonymous') return;
  const principal = caller.authenticated?.principal;
  if (!principal) throw new PaddockError('PDK_AUTH_REQUIRED');
  const adminPasses = principal.admin && (access === 'admin' || route.adminAllowed === true);
  switch (access) {
    case 'user':
      return;
    case 'admin':
      if (principal.admin) return;
      break;
    case 'reviewer':
      if (principal.reviewer || adminPasses) return;
      break;
    case 'owner': {
      const workspace = await store.getWorkspace(params['workspaceId'] ?? '');
      if (!workspace && !adminPasses)
        throw new PaddockError('PDK_AUTH_FORBIDDEN', `workspace ${params['workspaceId']} is not yours`);
      if (adminPasses || (workspace && sameUser(workspace.owner, principal.userId))) return;
      break;
    }
  }
  throw new PaddockError(
    'PDK_AUTH_FORBIDDEN',
    `${route.method} ${route.path} needs ${access === 'owner' ? "the workspace's owner" : `a ${access}`}${route.adminAllowed ? ' or an administrator' : ''}`,
  );
}
