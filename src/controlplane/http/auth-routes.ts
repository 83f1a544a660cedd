import type { IncomingMessage } from 'node:http';
import { isPaddockError, PaddockError } from '../../core/errors.ts';
import {
  clearLoginCookie,
  clearSessionCookie,
  LOGIN_COOKIE,
  loginCookie,
  readCookies,
  sessionCookie,
} from './cookies.ts';
import type { RouteDeps } from './deps.ts';
import { safeReturnPath } from './pending-logins.ts';
import type { Route } from './route-table.ts';

// Sign-in and sign-out. The browser: /auth/login redirects to the IdP (code + PKCE + state +
// nonce), /auth/callback checks all of them, plus a cookie binding the callback to the browser
// that started the sign-in, and sets the session cookie. The CLI: /api/auth/config tells it
// where to run the device flow, /api/auth/token trades the IdP's tokens for a Paddock session.

function sourceOf(req: IncomingMessage): { ip?: string } {
  return { ip: req.socket.remoteAddress };
}

function reasonCode(error: unknown): string {
  if (isPaddockError(error, 'PDK_AUTH_USER_DISABLED')) return 'user_disabled';
  if (isPaddockError(error, 'PDK_AUTH_IDP_UNAVAILABLE')) return 'idp_unavailable';
  return 'idp_refused';
}

export function authRoutes(deps: RouteDeps): Route[] {
  const callbackUrl = `${deps.publicOrigin}/auth/callback`;
  return [
    {
      method: 'GET',
      path: '/auth/login',
      access: 'anonymous',
      async handler({ url }) {
        const { url: target, pending } = await deps.identity.beginLogin(callbackUrl);
        deps.pendingLogins.add(pending, safeReturnPath(url.searchParams.get('return')));
        return {
          redirect: target.href,
          headers: { 'Set-Cookie': loginCookie(pending.state, deps.pendingLogins.ttlMs, deps.secure) },
        };
      },
    },
    {
      method: 'GET',
      path: '/auth/callback',
      access: 'anonymous',
      async handler({ req, url }) {
        const state = url.searchParams.get('state') ?? '';
        const bound = readCookies(req).get(LOGIN_COOKIE);
        const pending = state ? deps.pendingLogins.take(state) : undefined;
        const clear = clearLoginCookie(deps.secure);
        const fail = async (code: string, reason: string) => {
          await deps.sessions.loginFailed(code, reason, undefined, sourceOf(req));
          return { redirect: `/?login_error=${encodeURIComponent(code)}`, headers: { 'Set-Cookie': clear } };
        };
        if (!pending) return fail('invalid_state', 'the sign-in is unknown, used or too old');
        if (bound !== state)
          return fail(
            'state_not_bound',
            'the callback came to another browser than the one that started the sign-in',
          );
        const error = url.searchParams.get('error');
        if (error) return fail('idp_error', `the identity provider answered ${error.slice(0, 100)}`);
        try {
          const signIn = await deps.identity.finishLogin(new URL(`${callbackUrl}${url.search}`), pending);
          const started = await deps.sessions.start(signIn, 'web', sourceOf(req));
          return {
            redirect: pending.returnTo,
            headers: {
              'Set-Cookie': [clear, sessionCookie(started.token, deps.sessions.maxAgeMs, deps.secure)],
            },
          };
        } catch (failure) {
          if (isPaddockError(failure, 'PDK_AUTH_USER_DISABLED'))
            return { redirect: '/?login_error=user_disabled', headers: { 'Set-Cookie': clear } };
          return fail(reasonCode(failure), (failure as Error).message);
        }
      },
    },
    {
      method: 'POST',
      path: '/auth/logout',
      access: 'user',
      async handler({ principal }) {
        await deps.sessions.logout((principal as { sessionId: string }).sessionId);
        return { status: 204, headers: { 'Set-Cookie': clearSessionCookie(deps.secure) } };
      },
    },
    {
      method: 'GET',
      path: '/api/auth/config',
      access: 'anonymous',
      handler() {
        const settings = deps.identity.settings;
        return {
          json: {
            provider: settings.provider,
            issuer: settings.issuer,
            clientId: settings.cliClientId,
            scopes: settings.scopes,
          },
        };
      },
    },
    {
      method: 'POST',
      path: '/api/auth/token',
      access: 'anonymous',
      async handler({ req, body }) {
        const input = (await body()) as { idToken?: unknown; refreshToken?: unknown };
        if (typeof input?.idToken !== 'string' || typeof input.refreshToken !== 'string')
          throw new PaddockError(
            'PDK_HTTP_BAD_REQUEST',
            'send {"idToken": "...", "refreshToken": "..."} from the device flow',
          );
        let signIn: Awaited<ReturnType<typeof deps.identity.verifyCliTokens>>;
        try {
          signIn = await deps.identity.verifyCliTokens(input.idToken, input.refreshToken);
        } catch (error) {
          await deps.sessions.loginFailed(
            reasonCode(error),
            (error as Error).message,
            undefined,
            sourceOf(req),
          );
          if (isPaddockError(error, 'PDK_AUTH_IDP_UNAVAILABLE')) throw error;
          throw new PaddockError('PDK_AUTH_LOGIN_FAILED', 'the identity provider tokens were refused');
        }
        const started = await deps.sessions.start(signIn, 'cli', sourceOf(req));
        return {
          status: 201,
          json: {
            token: started.token,
            session: started.session,
            user: {
              id: started.principal.userId,
              displayName: started.principal.displayName,
              groups: started.principal.groups,
            },
          },
        };
      },
    },
  ];
}
