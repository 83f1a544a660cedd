import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type InteractionDetails, type ProviderContext } from 'oidc-provider';
import { createLogger } from '../../core/log.ts';
import { type EntryPersistence, memoryAdapter } from './embedded-idp-adapter.ts';
import {
  type DemoAccountView,
  deviceSuccessPage,
  IDP_PAGE_CSP,
  loginPage,
  userCodeConfirmPage,
  userCodeInputPage,
} from './embedded-idp-pages.ts';

// The embedded development identity provider (oidc-provider), used only when the Platform says
// `identity.provider: embedded`. Its accounts are the Platform's demo users; its login page lets
// you pick one (no passwords: development only, and every page says so). It behaves like a real
// IdP where Paddock depends on it: discovery, authorization code with PKCE (required for every
// client), refresh tokens, the device authorization grant for `paddock login`, and accounts that
// can be disabled so the next refresh fails. Keys live in memory; grants and refresh tokens too,
// unless `persistence` keeps them (paddock up: a sealed file, so a restart keeps sessions).

const log = createLogger('embedded-idp');

/** A demo user as the Platform lists it. */
export interface EmbeddedAccount {
  readonly email: string;
  readonly name: string;
  readonly groups: readonly string[];
}

export interface EmbeddedIdpOptions {
  /** The issuer URL, e.g. `http://127.0.0.1:8080/idp`; its path is where the IdP is mounted. */
  readonly issuer: string;
  readonly accounts: readonly EmbeddedAccount[];
  /** The control plane's confidential client (authorization code + PKCE, refresh). */
  readonly webClient: {
    readonly clientId: string;
    readonly clientSecret: string;
    readonly redirectUris: readonly string[];
  };
  /** The CLI's public client (device authorization grant, refresh). */
  readonly cliClientId: string;
  /** Where grants and refresh tokens are kept between runs. Default: memory only (a restart forgets them). */
  readonly persistence?: EntryPersistence;
}

/** The claim the embedded IdP puts groups in (the Platform's groupsClaim must name it). */
export const EMBEDDED_GROUPS_CLAIM = 'groups';
/** Scopes the embedded IdP supports; `groups` releases the groups claim. */
export const EMBEDDED_SCOPES = ['openid', 'offline_access', 'email', 'profile', 'groups'] as const;

export interface EmbeddedIdp {
  readonly issuer: string;
  /** The path prefix requests for the IdP start with ('' when it owns the whole origin). */
  readonly mountPath: string;
  /** Serves one request whose path starts with mountPath. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Disables (or enables) an account: a disabled account cannot sign in and its refresh tokens stop working. */
  setAccountDisabled(email: string, disabled: boolean): void;
}

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const MAX_FORM_BYTES = 4096;

/**
 * Builds the embedded IdP for `issuer`; mount it by routing every request under its path to handle().
 * @example
 * const idp = await createEmbeddedIdp({ issuer: `${origin}/idp`, accounts, webClient, cliClientId: 'paddock-cli' });
 * // in the server: if (url.pathname.startsWith(idp.mountPath + '/')) return idp.handle(req, res);
 */
export async function createEmbeddedIdp(options: EmbeddedIdpOptions): Promise<EmbeddedIdp> {
  const issuerUrl = new URL(options.issuer);
  const mountPath = issuerUrl.pathname.replace(/\/$/, '');
  const accounts = new Map<string, EmbeddedAccount & { disabled: boolean }>();
  for (const account of options.accounts)
    accounts.set(account.email.toLowerCase(), { ...account, disabled: false });
  const activeAccount = (id: string | undefined) => {
    const account = id === undefined ? undefined : accounts.get(id.toLowerCase());
    return account && !account.disabled ? account : undefined;
  };

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = {
    ...(await exportJWK(privateKey)),
    kid: randomBytes(8).toString('hex'),
    alg: 'RS256',
    use: 'sig',
  };

  const provider = new Provider(options.issuer, {
    clients: [
      {
        client_id: options.webClient.clientId,
        client_secret: options.webClient.clientSecret,
        client_name: 'Paddock console',
        redirect_uris: [...options.webClient.redirectUris],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: options.cliClientId,
        client_name: 'Paddock CLI',
        redirect_uris: [],
        grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
        response_types: [],
        token_endpoint_auth_method: 'none',
      },
    ],
    adapter: memoryAdapter(options.persistence),
    jwks: { keys: [signingKey] },
    // Seconds. Refresh tokens outlive a Paddock session (8 h by default) but not by much.
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      DeviceCode: 600,
      Grant: 86_400,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 86_400,
      Session: 86_400,
    },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: [EMBEDDED_GROUPS_CLAIM],
    },
    scopes: [...EMBEDDED_SCOPES],
    // Real IdPs put requested claims into the ID token; so does this one.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    // Both clients are Paddock's own: refresh tokens without offline_access, so every session can
    // be re-checked (a disabled account fails the refresh).
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    async findAccount(_ctx: unknown, sub: string) {
      const account = activeAccount(sub);
      if (!account) return undefined;
      return {
        accountId: account.email.toLowerCase(),
        async claims() {
          return {
            sub: account.email.toLowerCase(),
            email: account.email.toLowerCase(),
            email_verified: true,
            name: account.name,
            [EMBEDDED_GROUPS_CLAIM]: [...account.groups],
          };
        },
      };
    },
    // First-party clients only: consent is implied, as an enterprise IdP does for its own apps.
    async loadExistingGrant(ctx: ProviderContext) {
      const oidc = ctx.oidc;
      const existing = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(oidc.client.clientId);
      // After switching demo users the IdP session may still name the previous user's grant.
      const found = existing ? await oidc.provider.Grant.find(existing) : undefined;
      if (found && found.accountId === oidc.session.accountId) return found;
      if (!oidc.session.accountId) return undefined;
      const grant = new oidc.provider.Grant({
        accountId: oidc.session.accountId,
        clientId: oidc.client.clientId,
      });
      const requested = [...oidc.requestParamScopes].filter((scope) =>
        (EMBEDDED_SCOPES as readonly string[]).includes(scope),
      );
      grant.addOIDCScope(requested.join(' '));
      await grant.save();
      return grant;
    },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `${mountPath}/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      deviceFlow: {
        enabled: true,
        async userCodeInputSource(ctx: ProviderContext, form: string, _out: unknown, error: unknown) {
          setPage(ctx, userCodeInputPage(form, Boolean(error)));
        },
        async userCodeConfirmSource(
          ctx: ProviderContext,
          form: string,
          client: { clientName?: string; clientId: string },
          _info: unknown,
          userCode: string,
        ) {
          setPage(ctx, userCodeConfirmPage(form, client.clientName ?? client.clientId, userCode));
        },
        async successSource(ctx: ProviderContext) {
          setPage(ctx, deviceSuccessPage());
        },
      },
    },
  });
  provider.on('server_error', (_ctx, error) =>
    log.error({ error: (error as Error).message }, 'identity provider error'),
  );
  const callback = provider.callback();

  const views = (): DemoAccountView[] =>
    [...accounts.values()].map((account) => ({
      email: account.email,
      name: account.name,
      groups: account.groups,
      disabled: account.disabled,
    }));

  // Picking another demo user than the one this browser is signed in as at the IdP: end that IdP
  // session first, as a real IdP's "sign in as someone else" does. (oidc-provider's own
  // account-switch step loses the interaction when the IdP is mounted below a path.)
  async function forgetOtherUser(details: InteractionDetails, accountId: string): Promise<void> {
    const session = details.session;
    if (!session?.accountId || session.accountId === accountId) return;
    if (session.cookie) await (await provider.Session.find(session.cookie))?.destroy();
    delete session.uid;
    await details.save(Math.max(1, details.exp - Math.floor(Date.now() / 1000)));
  }

  async function interaction(
    req: IncomingMessage,
    res: ServerResponse,
    uid: string,
    action: string | undefined,
  ) {
    const details = await provider.interactionDetails(req, res).catch(() => undefined);
    if (!details || details.uid !== uid) {
      sendHtml(
        res,
        400,
        loginPage('', [], 'This sign-in has expired: start again from the console or `paddock login`.'),
      );
      return;
    }
    const here = `${mountPath}/interaction/${uid}`;
    if (req.method === 'GET' && action === undefined) {
      sendHtml(res, 200, loginPage(`${here}/login`, views()));
      return;
    }
    if (req.method === 'POST' && action === 'login') {
      const form = await readForm(req);
      const account = activeAccount(form.get('email') ?? undefined);
      if (!account) {
        sendHtml(res, 403, loginPage(`${here}/login`, views(), 'That user does not exist or is disabled.'));
        return;
      }
      const accountId = account.email.toLowerCase();
      await forgetOtherUser(details, accountId);
      await provider.interactionFinished(req, res, { login: { accountId } });
      return;
    }
    sendHtml(res, 405, loginPage(`${here}/login`, views(), 'Use the buttons on this page.'));
  }

  return {
    issuer: options.issuer,
    mountPath,
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://idp.invalid');
      const path = url.pathname.slice(mountPath.length) || '/';
      const match = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login))?$/.exec(path);
      if (match) {
        interaction(req, res, match[1] as string, match[2]).catch((error: Error) => {
          log.error({ error: error.message }, 'embedded IdP interaction failed');
          if (!res.headersSent) sendHtml(res, 500, loginPage('', [], 'The sign-in failed: start again.'));
          else res.destroy();
        });
        return;
      }
      // Mounted below a prefix, as Express would: oidc-provider derives its URLs from originalUrl.
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
      req.url = `${path}${url.search}`;
      callback(req, res);
    },
    setAccountDisabled(email, disabled) {
      const account = accounts.get(email.toLowerCase());
      if (!account) throw new Error(`the embedded IdP has no account ${email}`);
      account.disabled = disabled;
    },
  };
}

function setPage(ctx: ProviderContext, html: string): void {
  ctx.set('Content-Security-Policy', IDP_PAGE_CSP);
  ctx.type = 'html';
  ctx.body = html;
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': IDP_PAGE_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  res.end(html);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new Error('login form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export interface StandaloneEmbeddedIdp extends EmbeddedIdp {
  close(): Promise<void>;
}

/**
 * Runs the embedded IdP on its own listener (an IdP on another origin, as in production), for
 * tests and tools. `redirectUris` of the web client may be filled in once the caller's server listens.
 */
export async function startEmbeddedIdp(
  options: Omit<EmbeddedIdpOptions, 'issuer'> & { readonly host?: string; readonly port?: number },
): Promise<StandaloneEmbeddedIdp> {
  let idp: EmbeddedIdp | undefined;
  const server = createServer((req, res) => {
    if (idp) idp.handle(req, res);
    else res.writeHead(503).end();
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  idp = await createEmbeddedIdp({ ...options, issuer: `http://${host}:${port}` });
  const ready = idp;
  return {
    issuer: ready.issuer,
    mountPath: ready.mountPath,
    handle: ready.handle,
    setAccountDisabled: ready.setAccountDisabled,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
