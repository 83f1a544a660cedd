// The control plane's HTTP server: the entry point `paddock up` starts.
//
//   const server = await createControlPlaneServer({ store, state, dataDir, audit, port: 8080 });
//   server.registerRoutes([...workspaceRoutes]);            // more API routes, same access checks
//   server.registerUpgrade({ path: '/api/workspaces/:workspaceId/terminal', access: 'owner', handle });
//   server.sessions.onSessionEnded((sessionId, reason) => closeTerminals(sessionId));
//   console.log(server.url);                                 // the console
//   await server.close();
//
// It serves: the API route table (src/controlplane/http/*-routes.ts; docs/api.md), WebSocket
// upgrades (registerUpgrade), the embedded development IdP under /idp when the Platform says
// `identity.provider: embedded`, and the built console (consoleDir) for every other GET with an
// SPA fallback to index.html. Every response but the IdP's carries the security headers.
// `reviews` is the ReviewQueue every enforcement point must use (it fires the review webhook).

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { DesiredState } from '../../config/index.ts';
import { type Clock, systemClock } from '../../core/clock.ts';
import { PaddockError } from '../../core/errors.ts';
import { createEmbeddedIdp, type EmbeddedIdp } from '../identity/embedded-idp.ts';
import { IdentityClient } from '../identity/identity-client.ts';
import { EMBEDDED_WEB_CLIENT_ID, resolveIdentitySettings } from '../identity/identity-settings.ts';
import { reviewerEntries, rolesFor } from '../identity/roles.ts';
import { ReviewQueue } from '../reviews/queue.ts';
import { sealedStateFile } from '../identity/embedded-idp-state-file.ts';
import type { SessionKey } from '../sessions/session-key.ts';
import { SessionManager } from '../sessions/session-manager.ts';
import type { Store } from '../store/store.ts';
import { authRoutes } from './auth-routes.ts';
import type { RouteDeps } from './deps.ts';
import { PendingLogins } from './pending-logins.ts';
import { checkAccess, checkOrigin, identifyCaller } from './request-auth.ts';
import { readJsonBody, sendError, sendJson } from './responses.ts';
import { reviewRoutes } from './review-routes.ts';
import { createReviewWebhook, notifyingStore, type ReviewWebhook } from './review-webhook.ts';
import { type Route, type RouteResult, RouteTable } from './route-table.ts';
import { applySecurityHeaders, securityHeaders } from './security-headers.ts';
import { sessionRoutes } from './session-routes.ts';
import { serveStatic } from './static-files.ts';
import { type UpgradeRoute, UpgradeRouter } from './upgrade-routes.ts';

export interface ControlPlaneServerOptions {
  readonly store: Store;
  /** The validated desired state; its Platform's identity settings are required. */
  readonly state: DesiredState;
  /** Paddock's data directory (kept for the parts the lead wires in; nothing is written here yet). */
  readonly dataDir: string;
  /** Appends one OCSF event to the control plane's audit log. */
  readonly audit: (event: Record<string, unknown>) => Promise<unknown>;
  /** The origin browsers use, e.g. `https://paddock.example.com`. Default: `http://<host>:<port>` once listening. */
  readonly publicOrigin?: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** The built console (Vite's dist/); without it only the API answers. */
  readonly consoleDir?: string;
  /** Where clientSecretEnv and the webhook's urlEnv are read. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Must be the store's clock. Default: the system clock. */
  readonly clock?: Clock;
  /** How often sessions are re-checked with the IdP. Default 300000 (5 min). */
  readonly refreshIntervalMs?: number;
  /**
   * Seals the IdP refresh tokens stored with the sessions (the same for every replica; kept
   * across restarts). Default: a key for this process only, so its sessions end with it.
   */
  readonly sessionKey?: SessionKey;
  /**
   * Where the embedded IdP keeps its grants and refresh tokens between runs, sealed with
   * `sessionKey` (both needed). Default: memory only, so a restart signs its users out.
   */
  readonly embeddedIdpStateFile?: string;
  /** How often sessions are swept for expiry, idleness and revocation. Default 1000. */
  readonly sweepIntervalMs?: number;
  /**
   * WebSocket upgrades on these exact paths are handed over as they arrive, before any session
   * check: for endpoints that authenticate the caller themselves (the supervisor channel on a cluster).
   */
  readonly passThroughUpgrades?: Readonly<
    Record<string, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>
  >;
}

/** The probe endpoint: answers 200 without touching the store, so a busy database does not restart replicas. */
export const HEALTH_PATH = '/healthz';

function healthRoute(): Route {
  return {
    method: 'GET',
    path: HEALTH_PATH,
    access: 'anonymous',
    handler: () => ({ json: { status: 'ok' } }),
  };
}

export interface ControlPlaneServer {
  /** The console's URL (the public origin, with a trailing slash). */
  readonly url: string;
  readonly publicOrigin: string;
  readonly sessions: SessionManager;
  /** The review queue enforcement points must hold calls on. */
  readonly reviews: ReviewQueue;
  readonly identity: IdentityClient;
  /** The embedded IdP, when the Platform uses it (tests and `paddock up` may disable accounts). */
  readonly embeddedIdp: EmbeddedIdp | undefined;
  /** The review webhook, when configured. */
  readonly reviewWebhook: ReviewWebhook | undefined;
  /** Adds API routes; the same access checks, CSRF rule and error format apply. */
  registerRoutes(routes: readonly Route[]): void;
  /** Adds a WebSocket route (access checks plus the Origin check). */
  registerUpgrade(route: UpgradeRoute): void;
  /** Every API route (the authorization matrix test compares these with its rows). */
  routes(): readonly Route[];
  upgradeRoutes(): readonly UpgradeRoute[];
  close(): Promise<void>;
}

async function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new PaddockError('PDK_HTTP_LISTEN', `could not listen on ${host}:${port}: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    server.listen(port, host, resolve);
  });
  return server.address() as AddressInfo;
}

function writeResult(res: ServerResponse, result: RouteResult): void {
  if (res.writableEnded || res.headersSent) return;
  if (result === undefined) {
    res.writeHead(204).end();
    return;
  }
  if ('redirect' in result) {
    res.writeHead(302, { ...result.headers, Location: result.redirect, 'Cache-Control': 'no-store' }).end();
    return;
  }
  if ('json' in result) {
    sendJson(res, result.status ?? 200, result.json, result.headers);
    return;
  }
  res.writeHead(204, { ...result.headers, 'Cache-Control': 'no-store' }).end();
}

/** The webhook URL from its variable: set, and https (plain http only to this machine). */
function checkWebhookUrl(variable: string, value: string | undefined): string {
  if (!value)
    throw new PaddockError(
      'PDK_REVIEW_WEBHOOK_CONFIG',
      `spec.reviews.webhook.urlEnv names ${variable}, which is not set`,
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new PaddockError('PDK_REVIEW_WEBHOOK_CONFIG', `${variable} does not hold a URL`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw new PaddockError(
      'PDK_REVIEW_WEBHOOK_CONFIG',
      `${variable} must hold an https URL (http only to this machine)`,
    );
  return url.href;
}

/** Starts the control plane's HTTP server; see the top of this file. */
export async function createControlPlaneServer(
  options: ControlPlaneServerOptions,
): Promise<ControlPlaneServer> {
  const server = createServer();
  try {
    return await startOn(server, options);
  } catch (error) {
    server.closeAllConnections();
    server.close();
    throw error;
  }
}

async function startOn(server: Server, options: ControlPlaneServerOptions): Promise<ControlPlaneServer> {
  const identitySpec = options.state.platform?.value.spec.identity;
  if (!identitySpec) throw new PaddockError('PDK_AUTH_CONFIG', 'paddock.yaml has no spec.identity');
  const clock = options.clock ?? systemClock;
  const env = options.env ?? process.env;
  const host = options.host ?? '127.0.0.1';

  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  server.on('request', (req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503, { 'Retry-After': '1' }).end();
  });
  const address = await listen(server, host, options.port ?? 0);
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const publicOrigin = new URL(options.publicOrigin ?? `http://${hostInUrl}:${address.port}`).origin;
  const origin = new URL(publicOrigin);
  const secure = origin.protocol === 'https:';

  const webClientSecret = randomBytes(32).toString('base64url');
  const settings = resolveIdentitySettings(identitySpec, env, {
    issuer: `${publicOrigin}/idp`,
    webClientSecret,
  });
  const embeddedIdp =
    settings.provider === 'embedded'
      ? await createEmbeddedIdp({
          issuer: settings.issuer,
          accounts: identitySpec.demoUsers,
          webClient: {
            clientId: EMBEDDED_WEB_CLIENT_ID,
            clientSecret: webClientSecret,
            redirectUris: [`${publicOrigin}/auth/callback`],
          },
          cliClientId: settings.cliClientId,
          ...(options.embeddedIdpStateFile && options.sessionKey
            ? { persistence: sealedStateFile(options.embeddedIdpStateFile, options.sessionKey) }
            : {}),
        })
      : undefined;
  const identity = new IdentityClient(settings);
  const reviewers = reviewerEntries(options.state);
  const sessions = new SessionManager({
    store: options.store,
    refresher: identity,
    audit: options.audit,
    roles: (user) => rolesFor(user, settings.adminGroups, reviewers),
    maxAgeMs: settings.sessionMaxAgeMs,
    idleMs: settings.sessionIdleMs,
    refreshIntervalMs: options.refreshIntervalMs,
    ...(options.sessionKey ? { sessionKey: options.sessionKey } : {}),
    clock,
    issuer: settings.issuer,
  });

  const webhookEnv = options.state.platform?.value.spec.reviews?.webhook?.urlEnv;
  const webhookUrl = webhookEnv ? checkWebhookUrl(webhookEnv, env[webhookEnv]) : undefined;
  const reviewWebhook = webhookUrl ? createReviewWebhook({ url: webhookUrl, publicOrigin }) : undefined;
  const reviewStore = reviewWebhook
    ? notifyingStore(options.store, (record) => reviewWebhook.notify(record))
    : options.store;
  const reviews = new ReviewQueue({ store: reviewStore, audit: options.audit, clock });

  const deps: RouteDeps = {
    store: options.store,
    sessions,
    identity,
    reviews,
    pendingLogins: new PendingLogins(clock),
    publicOrigin,
    secure,
    clock,
  };
  const table = new RouteTable();
  table.add([healthRoute(), ...authRoutes(deps), ...sessionRoutes(deps), ...reviewRoutes(deps)]);
  const upgrades = new UpgradeRouter(sessions, options.store, publicOrigin);
  const headers = securityHeaders(origin);
  const idpPrefix = embeddedIdp?.mountPath;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', publicOrigin);
    const path = url.pathname;
    if (embeddedIdp && idpPrefix && (path === idpPrefix || path.startsWith(`${idpPrefix}/`))) {
      embeddedIdp.handle(req, res);
      return;
    }
    applySecurityHeaders(res, headers);
    const method = req.method ?? 'GET';
    const isApi =
      path.startsWith('/api/') || path === '/api' || path.startsWith('/auth/') || path === HEALTH_PATH;
    if (!isApi) {
      if ((method === 'GET' || method === 'HEAD') && options.consoleDir) {
        if (await serveStatic(options.consoleDir, path, res, method === 'HEAD')) return;
      }
      throw new PaddockError('PDK_HTTP_NOT_FOUND', `nothing at ${path}`);
    }
    const found = table.match(method === 'HEAD' ? 'GET' : method, path);
    if (!found.route) {
      if (found.allowed.length > 0) {
        res.setHeader('Allow', found.allowed.join(', '));
        throw new PaddockError('PDK_HTTP_METHOD', `${method} is not allowed on ${path}`);
      }
      throw new PaddockError('PDK_HTTP_NOT_FOUND', `no route ${method} ${path}`);
    }
    const caller = await identifyCaller(req, sessions);
    checkOrigin(req, caller, publicOrigin);
    await checkAccess(found.route, found.params, caller, options.store);
    const result = await found.route.handler({
      req,
      res,
      url,
      params: found.params,
      principal: caller.authenticated?.principal,
      session: caller.authenticated?.session,
      via: caller.via,
      body: () => readJsonBody(req),
    });
    writeResult(res, result);
  }

  handler = (req, res) => {
    handle(req, res).catch((error) => sendError(res, error));
  };
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const passThroughs = options.passThroughUpgrades;
    if (passThroughs && Object.hasOwn(passThroughs, path)) {
      passThroughs[path]?.(req, socket, head);
      return;
    }
    upgrades.handleUpgrade(req, socket, head).catch(() => socket.destroy());
  });
  sessions.startSweeper(options.sweepIntervalMs ?? 1000);
  reviews.startSweeper();

  return {
    url: `${publicOrigin}/`,
    publicOrigin,
    sessions,
    reviews,
    identity,
    embeddedIdp,
    reviewWebhook,
    registerRoutes: (routes) => table.add(routes),
    registerUpgrade: (route) => upgrades.register(route),
    routes: () => table.list(),
    upgradeRoutes: () => upgrades.routes(),
    async close() {
      sessions.stopSweeper();
      reviews.stopSweeper();
      upgrades.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await reviewWebhook?.idle();
    },
  };
}
