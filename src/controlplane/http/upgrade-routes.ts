import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { isPaddockError, PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { SessionManager } from '../sessions/session-manager.ts';
import type { Store } from '../store/store.ts';
import { checkAccess, identifyCaller } from './request-auth.ts';
import { type Access, type Method, type RouteContext, RouteTable } from './route-table.ts';

// WebSocket routes (the broker's terminals). The same access levels as the HTTP routes, plus an
// Origin check that is stricter than for plain requests: a browser always sends Origin on a
// WebSocket and cannot add an Authorization header, so any Origin but the console's is refused,
// and a cookie-authenticated upgrade must carry the console's Origin. A socket is closed (code
// 4401) as soon as the session it was opened with ends.

const log = createLogger('http-upgrade');

export interface UpgradeRoute {
  /** A path with `:name` segments, e.g. `/api/workspaces/:workspaceId/terminal`. */
  readonly path: string;
  readonly access: Access;
  readonly adminAllowed?: boolean;
  /** Takes over the socket once the upgrade is accepted. */
  handle(socket: WebSocket, ctx: Omit<RouteContext, 'res' | 'body'>): void;
}

/** Close code sent when the session behind a socket ends. */
export const SESSION_ENDED_CLOSE_CODE = 4401;

export class UpgradeRouter {
  readonly #table = new RouteTable();
  readonly #handlers = new Map<string, UpgradeRoute>();
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  readonly #bySession = new Map<string, Set<WebSocket>>();
  readonly #sessions: SessionManager;
  readonly #store: Store;
  readonly #publicOrigin: string;

  constructor(sessions: SessionManager, store: Store, publicOrigin: string) {
    this.#sessions = sessions;
    this.#store = store;
    this.#publicOrigin = publicOrigin;
    sessions.onSessionEnded((sessionId) => {
      for (const socket of this.#bySession.get(sessionId) ?? [])
        socket.close(SESSION_ENDED_CLOSE_CODE, 'session ended');
      this.#bySession.delete(sessionId);
    });
  }

  register(route: UpgradeRoute): void {
    this.#table.add([
      {
        method: 'GET',
        path: route.path,
        access: route.access,
        adminAllowed: route.adminAllowed,
        handler: () => undefined,
      },
    ]);
    this.#handlers.set(route.path, route);
  }

  routes(): readonly UpgradeRoute[] {
    return [...this.#handlers.values()];
  }

  /** The server's 'upgrade' listener. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', this.#publicOrigin);
      const found = this.#table.match('GET', url.pathname);
      if (!found.route) throw new PaddockError('PDK_HTTP_NOT_FOUND', `no WebSocket route ${url.pathname}`);
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== this.#publicOrigin)
        throw new PaddockError('PDK_AUTH_ORIGIN', `WebSocket from origin ${origin} refused`);
      const caller = await identifyCaller(req, this.#sessions);
      if (caller.cookieBorne && origin !== this.#publicOrigin)
        throw new PaddockError(
          'PDK_AUTH_ORIGIN',
          'a WebSocket with the session cookie must come from the console',
        );
      await checkAccess(found.route, found.params, caller, this.#store);
      const route = this.#handlers.get(found.route.path) as UpgradeRoute;
      const sessionId = caller.authenticated?.principal.sessionId;
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        if (sessionId) this.#track(sessionId, ws);
        route.handle(ws, {
          req,
          url,
          params: found.params,
          principal: caller.authenticated?.principal,
          session: caller.authenticated?.session,
          via: caller.via,
        });
      });
    } catch (error) {
      refuse(socket, error);
    }
  }

  #track(sessionId: string, ws: WebSocket): void {
    let set = this.#bySession.get(sessionId);
    if (!set) {
      set = new Set();
      this.#bySession.set(sessionId, set);
    }
    set.add(ws);
    ws.once('close', () => {
      set.delete(ws);
      if (set.size === 0) this.#bySession.delete(sessionId);
    });
  }

  close(): void {
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
  }
}

const REASONS: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Internal Server Error',
};

function refuse(socket: Duplex, error: unknown): void {
  const status = isPaddockError(error) && error.expose ? error.status : 500;
  if (status === 500) log.error({ error: (error as Error).message }, 'upgrade failed');
  const code = isPaddockError(error) && error.expose ? error.code : 'PDK_INTERNAL';
  const body = JSON.stringify({ error: { code } });
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export type { Method };
