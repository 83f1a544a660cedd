import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '../core/env.ts';
import { PaddockError } from '../core/errors.ts';

// The control-plane session client commands use: the one `paddock login` saved in
// $XDG_CONFIG_HOME/paddock/session.json ({server, token, expiresAt}), with PADDOCK_SERVER,
// PADDOCK_TOKEN and --server taking precedence, so scripts and CI need no file.

export interface ClientSession {
  /** The control plane's base URL, e.g. `https://paddock.example.com`. */
  readonly server: string;
  readonly token: string;
}

/** Where `paddock login` saves the session. */
export function savedSessionPath(env: NodeJS.ProcessEnv): string {
  return join(env[ENV.xdgConfigHome] || join(env['HOME'] || homedir(), '.config'), 'paddock', 'session.json');
}

/** expiresAt as epoch milliseconds, whether saved as an ISO date, milliseconds or seconds. */
function expiryMs(value: unknown): number | undefined {
  if (typeof value === 'number') return value < 1e12 ? value * 1000 : value;
  if (typeof value === 'string') return Date.parse(value);
  return undefined;
}

function readSaved(env: NodeJS.ProcessEnv): { server?: string; token?: string; expiresAt?: number } {
  let text: string;
  try {
    text = readFileSync(savedSessionPath(env), 'utf8');
  } catch {
    return {};
  }
  try {
    const saved = JSON.parse(text) as Record<string, unknown>;
    return {
      server: typeof saved['server'] === 'string' ? saved['server'] : undefined,
      token: typeof saved['token'] === 'string' ? saved['token'] : undefined,
      expiresAt: expiryMs(saved['expiresAt']),
    };
  } catch {
    return {};
  }
}

/**
 * The server and token to use. Throws PDK_AUTH_NOT_SIGNED_IN when there is no token, or the
 * saved one has expired (a token from PADDOCK_TOKEN is the server's to judge).
 * @example const { server, token } = resolveClientSession(ctx.env, ctx.values['server'] as string | undefined);
 */
export function resolveClientSession(
  env: NodeJS.ProcessEnv,
  serverOption?: string,
  now = Date.now(),
): ClientSession {
  const saved = readSaved(env);
  const server = serverOption ?? env[ENV.server] ?? saved.server;
  const envToken = env[ENV.token];
  if (!server)
    throw new PaddockError(
      'PDK_AUTH_NOT_SIGNED_IN',
      'no control plane: pass --server URL or run `paddock login`',
    );
  if (envToken) return { server, token: envToken };
  if (!saved.token) throw new PaddockError('PDK_AUTH_NOT_SIGNED_IN');
  if (saved.expiresAt !== undefined && Number.isFinite(saved.expiresAt) && saved.expiresAt <= now)
    throw new PaddockError('PDK_AUTH_NOT_SIGNED_IN', 'the saved session has expired');
  if (saved.server && saved.server !== server)
    throw new PaddockError(
      'PDK_AUTH_NOT_SIGNED_IN',
      `the saved session is for ${saved.server}, not ${server}`,
    );
  return { server, token: saved.token };
}
