// The broker's own Origin check, behind the server's (defence in depth against cross-site
// WebSocket hijacking: a page on another site opening a terminal with the user's cookie).
// Browsers always send Origin on a WebSocket handshake; clients that send none are not pages.

/** scheme://host[:port] of an origin or URL, lower-case, default port dropped; undefined when not http(s). */
export function normalizeOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return url.origin;
}

/**
 * Why the request's Origin is refused, or undefined when it may attach. An absent Origin
 * passes (not a browser page); "null", a malformed value, or one not in `allowed` is refused.
 */
export function checkOrigin(origin: string | undefined, allowed: readonly string[]): string | undefined {
  if (origin === undefined) return undefined;
  const normalized = normalizeOrigin(origin);
  if (!normalized) return `Origin ${JSON.stringify(origin.slice(0, 200))} is not an http(s) origin`;
  const permitted = allowed.map(normalizeOrigin);
  if (!permitted.includes(normalized)) return `Origin ${normalized} is not allowed`;
  return undefined;
}
