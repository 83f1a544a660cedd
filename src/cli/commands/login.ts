import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as oidc from 'openid-client';
import { ENV } from '../../core/env.ts';
import { isPaddockError, PaddockError } from '../../core/errors.ts';
import { type Command, type CommandContext, JSON_HELP, JSON_OPTION } from '../command.ts';
import { callControlPlane } from '../control-plane-api.ts';
import { writeJson } from '../output.ts';
import { type ClientSession, resolveClientSession, savedSessionPath } from '../saved-session.ts';

// `paddock login` / `paddock logout`: the CLI's control-plane session. Login runs the OAuth
// device authorization grant against the IdP the control plane names (GET /api/auth/config),
// then trades the IdP's tokens for a Paddock session (POST /api/auth/token), which it saves to
// $XDG_CONFIG_HOME/paddock/session.json (mode 0600). The other commands that talk to the
// control plane read it through ../saved-session.ts.

/** What `paddock login` saves. */
export interface SavedSession {
  readonly server: string;
  readonly token: string;
  readonly sessionId: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  readonly user: string;
}

/** The server of the saved session, if any (for `paddock login` without --server). */
async function savedServer(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const text = await readFile(savedSessionPath(env), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const server = (JSON.parse(text) as { server?: unknown }).server;
    return typeof server === 'string' ? server : undefined;
  } catch {
    return undefined;
  }
}

async function saveSession(env: NodeJS.ProcessEnv, session: SavedSession): Promise<string> {
  const path = savedSessionPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600); // an existing file keeps its mode on write
  return path;
}

function serverOrigin(text: string): string {
  try {
    return new URL(text).origin;
  } catch {
    throw new PaddockError(
      'PDK_CLI_USAGE',
      `--server must be a URL such as http://127.0.0.1:8080, got "${text}"`,
    );
  }
}

function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

async function deviceLogin(
  ctx: CommandContext,
  server: string,
): Promise<{ idToken: string; refreshToken: string }> {
  const config = (await callControlPlane(server, '/api/auth/config')) as {
    issuer: string;
    clientId: string;
    scopes: string[];
  };
  const issuer = new URL(config.issuer);
  const client = await oidc
    .discovery(
      issuer,
      config.clientId,
      undefined,
      oidc.None(),
      isLoopback(issuer) ? { execute: [oidc.allowInsecureRequests] } : undefined,
    )
    .catch((error: Error) => {
      throw new PaddockError('PDK_AUTH_IDP_UNAVAILABLE', `${config.issuer}: ${error.message}`, {
        cause: error,
      });
    });
  const device = await oidc.initiateDeviceAuthorization(client, { scope: config.scopes.join(' ') });
  ctx.stderr.write(
    `To sign in, open ${device.verification_uri_complete ?? device.verification_uri}\n` +
      `and check that it shows the code ${device.user_code}\n` +
      `Waiting (the code expires in ${Math.round(device.expires_in / 60)} minutes)...\n`,
  );
  const tokens = await oidc.pollDeviceAuthorizationGrant(client, device).catch((error: Error) => {
    throw new PaddockError(
      'PDK_AUTH_LOGIN_FAILED',
      `the identity provider ended the sign-in: ${(error as { error?: string }).error ?? error.message}`,
      { cause: error },
    );
  });
  if (!tokens.id_token || !tokens.refresh_token)
    throw new PaddockError(
      'PDK_AUTH_LOGIN_FAILED',
      'the identity provider returned no ID token or refresh token',
    );
  return { idToken: tokens.id_token, refreshToken: tokens.refresh_token };
}

/** `paddock login`. */
export const loginCommand: Command = {
  name: 'login',
  summary: 'sign the CLI in to a control plane (device flow)',
  usage: '[--server URL] [--json]',
  help: `Signs the CLI in to a Paddock control plane with the OAuth device flow: it prints a
URL and a code, you open the URL in a browser and sign in with your identity provider, and
the CLI receives a Paddock session, saved to $XDG_CONFIG_HOME/paddock/session.json (mode
0600). The session ends like a browser session: after its maximum age, when idle, when
revoked (\`paddock session revoke\`), or when the identity provider disables you.

Options:
      --server URL   the control plane (default: the one of the saved session)
${JSON_HELP}
`,
  options: { ...JSON_OPTION, server: { type: 'string' } },
  async run(ctx) {
    if (ctx.positionals.length > 0)
      throw new PaddockError(
        'PDK_CLI_USAGE',
        `paddock login takes no arguments, got "${ctx.positionals[0]}"`,
      );
    const given = ctx.values['server'] as string | undefined;
    const fallback = ctx.env[ENV.server] ?? (await savedServer(ctx.env));
    if (given === undefined && fallback === undefined)
      throw new PaddockError(
        'PDK_CLI_USAGE',
        'paddock login needs --server URL (the control plane to sign in to)',
      );
    const server = serverOrigin(given ?? (fallback as string));
    const tokens = await deviceLogin(ctx, server);
    const result = (await callControlPlane(server, '/api/auth/token', { method: 'POST', body: tokens })) as {
      token: string;
      session: { id: string; expiresAt: number };
      user: { id: string; displayName: string };
    };
    const saved: SavedSession = {
      server,
      token: result.token,
      sessionId: result.session.id,
      expiresAt: result.session.expiresAt,
      user: result.user.id,
    };
    const path = await saveSession(ctx.env, saved);
    if (ctx.values['json']) {
      writeJson(ctx.stdout, {
        server,
        user: saved.user,
        sessionId: saved.sessionId,
        expiresAt: saved.expiresAt,
        path,
      });
      return 0;
    }
    ctx.stdout.write(
      `signed in to ${server} as ${result.user.displayName} <${saved.user}> until ${new Date(saved.expiresAt).toISOString()}\n`,
    );
    return 0;
  },
};

/** `paddock logout`. */
export const logoutCommand: Command = {
  name: 'logout',
  summary: "end the CLI's control-plane session",
  usage: '',
  help: `Ends the session \`paddock login\` saved (the control plane revokes it) and deletes
$XDG_CONFIG_HOME/paddock/session.json. An already-ended session is just forgotten.
`,
  options: {},
  async run(ctx) {
    const path = savedSessionPath(ctx.env);
    let session: ClientSession | undefined;
    try {
      session = resolveClientSession(ctx.env);
    } catch (error) {
      if (!isPaddockError(error, 'PDK_AUTH_NOT_SIGNED_IN')) throw error;
    }
    if (session) {
      await callControlPlane(session.server, '/auth/logout', { method: 'POST', token: session.token }).catch(
        (error) => {
          if (!isPaddockError(error, 'PDK_AUTH_REQUIRED')) throw error;
        },
      );
    }
    await rm(path, { force: true });
    ctx.stdout.write(
      session ? `signed out of ${session.server}\n` : 'no live session: forgot the saved one\n',
    );
    return 0;
  },
};
