import { createHash, randomBytes } from 'node:crypto';

// A session's bearer token is 32 random bytes; the store keeps only its SHA-256, which is also
// the session's public id. Whoever reads the store, a log line or `GET /api/sessions` learns
// ids, never a token that signs in.

/** `pdk_` and 43 base64url characters: prefixed so secret scanners can recognise a leaked one. */
const TOKEN_PATTERN = /^pdk_[A-Za-z0-9_-]{43}$/;

export function newSessionToken(): { readonly token: string; readonly id: string } {
  const token = `pdk_${randomBytes(32).toString('base64url')}`;
  return { token, id: sessionIdFor(token) as string };
}

/** The session id a token stands for, or undefined when the text cannot be a token. */
export function sessionIdFor(token: string): string | undefined {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  return createHash('sha256').update(token).digest('base64url');
}
