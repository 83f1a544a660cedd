import type { ServerResponse } from 'node:http';

// Headers on every control-plane response (the embedded IdP's pages set their own). The CSP fits
// a Vite-built React app served from this origin: scripts only from here (no inline script, no
// eval), styles from here plus inline (xterm.js adds <style> elements), WebSockets to this host,
// never framed. HSTS only when the public origin is https.

/** The Content-Security-Policy for a public origin. */
export function contentSecurityPolicy(publicOrigin: URL): string {
  const ws = `${publicOrigin.protocol === 'https:' ? 'wss' : 'ws'}://${publicOrigin.host}`;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${ws}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function securityHeaders(publicOrigin: URL): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {
    'Content-Security-Policy': contentSecurityPolicy(publicOrigin),
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  };
  if (publicOrigin.protocol === 'https:') headers['Strict-Transport-Security'] = 'max-age=31536000';
  return headers;
}

export function applySecurityHeaders(res: ServerResponse, headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}
