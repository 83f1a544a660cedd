import type { IncomingMessage } from 'node:http';

// The two cookies the control plane sets. The session cookie is HttpOnly, SameSite=Strict, Path=/
// (Secure over https). The login cookie binds an authorization request to the browser that
// started it; it is SameSite=Lax because it must ride along on the IdP's redirect back.

export const SESSION_COOKIE = 'paddock_session';
export const LOGIN_COOKIE = 'paddock_login';

/** The request's cookies by name (the first of duplicates wins). */
export function readCookies(req: IncomingMessage): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at < 1) continue;
    const name = part.slice(0, at).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(at + 1).trim());
  }
  return cookies;
}

export function sessionCookie(token: string, maxAgeMs: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}${secure ? '; Secure' : ''}`;
}

export function clearSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}

export function loginCookie(state: string, maxAgeMs: number, secure: boolean): string {
  return `${LOGIN_COOKIE}=${state}; Path=/auth/callback; HttpOnly; SameSite=Lax; Max-Age=${Math.floor(maxAgeMs / 1000)}${secure ? '; Secure' : ''}`;
}

export function clearLoginCookie(secure: boolean): string {
  return `${LOGIN_COOKIE}=; Path=/auth/callback; HttpOnly; SameSite=Lax; Max-Age=0${secure ? '; Secure' : ''}`;
}
