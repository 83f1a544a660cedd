// A STAND-IN for the control plane, for the console's browser tests while the real server is
// being built: the same routes and JSON shapes (docs/console.md), over real HTTP and a real
// WebSocket whose terminal end is a real shell in a pty (node-pty). It keeps no real identity:
// GET /auth/login sets a session cookie at once instead of a round trip to an IdP. Everything
// the console sends is recorded so tests can assert what reached the "server".
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import * as pty from 'node-pty';
import { type WebSocket, WebSocketServer } from 'ws';
import { securityHeaders } from '../../src/controlplane/http/security-headers.ts';
import type { ReviewView } from '../../src/policy/review/types.ts';

const COOKIE = 'paddock_session';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

export interface StandInUser {
  readonly id: string;
  readonly displayName: string;
  readonly groups: readonly string[];
  readonly admin: boolean;
  readonly reviewer: boolean;
}

export interface StandInWorkspace {
  id: string;
  owner: string;
  profile: string;
  provider: string;
  state: string;
  stateVersion: number;
  /** Epoch milliseconds, as the real WorkspaceView. */
  createdAt: number;
  updatedAt: number;
  connected: boolean;
}

interface StandInSession {
  readonly id: string;
  readonly user: StandInUser;
  /** Epoch milliseconds, as the real session store. */
  readonly createdAt: number;
  lastSeenAt: number;
}

/** The broker's RecordingInfo (epoch milliseconds, sizeBytes) plus the cast text. */
interface StandInRecording {
  readonly id: string;
  readonly workspaceId: string;
  readonly userId: string;
  readonly startedAt: number;
  endedAt?: number;
  sha256?: string;
  sizeBytes?: number;
  cast: string;
}

/** One request the console made that changes something, as the stand-in received it. */
export interface ReceivedChange {
  readonly method: string;
  readonly path: string;
  readonly userId: string;
  readonly origin: string | undefined;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

export interface StandInOptions {
  /** The built console (index.html and assets/). */
  readonly consoleDir: string;
  /** Who `GET /auth/login` signs in. */
  readonly user: StandInUser;
  readonly workspaces: StandInWorkspace[];
  readonly reviews: ReviewView[];
  /** The shell the terminal runs, e.g. `['bash', '--norc', '--noprofile']`. */
  readonly shell: readonly string[];
  readonly shellCwd: string;
  /** Replaces the real server's Content-Security-Policy (to probe what the console needs). */
  readonly csp?: string;
}

export interface StandInControlPlane {
  readonly url: string;
  readonly changes: ReceivedChange[];
  /** Requests refused for a missing or foreign Origin or a non-JSON body. */
  readonly refused: { method: string; path: string; reason: string }[];
  readonly reviews: ReviewView[];
  readonly workspaces: StandInWorkspace[];
  readonly recordings: StandInRecording[];
  /** Terminal resize messages received, in order. */
  readonly resizes: { cols: number; rows: number }[];
  close(): Promise<void>;
}

function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0) cookies.set(part.slice(0, index).trim(), part.slice(index + 1).trim());
  }
  return cookies;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify(body));
}

function sendError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  fix: string,
): void {
  sendJson(response, status, { error: { code, message, fix } });
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startStandInControlPlane(options: StandInOptions): Promise<StandInControlPlane> {
  const sessions = new Map<string, StandInSession>();
  const changes: ReceivedChange[] = [];
  const refused: { method: string; path: string; reason: string }[] = [];
  const recordings: StandInRecording[] = [];
  const resizes: { cols: number; rows: number }[] = [];
  const { workspaces, reviews } = options;
  const sockets = new Set<WebSocket>();
  let origin = '';

  const sessionOf = (request: IncomingMessage): StandInSession | undefined => {
    const id = parseCookies(request.headers.cookie).get(COOKIE);
    const session = id ? sessions.get(id) : undefined;
    if (session) session.lastSeenAt = Date.now();
    return session;
  };

  const serveConsole = (path: string, response: ServerResponse) => {
    const relative = normalize(decodeURIComponent(path)).replace(/^([/\\])+/, '');
    let file = join(options.consoleDir, relative);
    const isAsset = relative.startsWith(`assets${sep}`) || relative.startsWith('assets/');
    if (!file.startsWith(options.consoleDir + sep) || !isAsset) file = join(options.consoleDir, 'index.html');
    let body: Buffer;
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      body = readFileSync(file);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    // The real server's security headers, so the console is tested under its actual CSP.
    const headers: Record<string, string> = { ...securityHeaders(new URL(origin)) };
    if (options.csp) headers['Content-Security-Policy'] = options.csp;
    response.writeHead(200, {
      ...headers,
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': isAsset ? 'public, max-age=31536000, immutable' : 'no-store',
    });
    response.end(body);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', origin);
    const method = request.method ?? 'GET';
    const path = url.pathname;

    if (method !== 'GET') {
      // CSRF: a state change must come from the console's own origin, as JSON.
      const contentType = request.headers['content-type'];
      if (request.headers.origin !== origin) {
        refused.push({ method, path, reason: 'origin' });
        return sendError(response, 403, 'PDK_STAND_IN_ORIGIN', 'foreign origin', 'use the console');
      }
      if (method === 'POST' && !contentType?.startsWith('application/json')) {
        refused.push({ method, path, reason: 'content-type' });
        return sendError(response, 415, 'PDK_STAND_IN_JSON', 'send JSON', 'use the console');
      }
    }

    if (method === 'GET' && path === '/auth/login') {
      const target = url.searchParams.get('return') ?? '/';
      const safeTarget = target.startsWith('/') && !target.startsWith('//') ? target : '/';
      const id = randomBytes(16).toString('hex');
      sessions.set(id, { id, user: options.user, createdAt: Date.now(), lastSeenAt: Date.now() });
      response.writeHead(302, {
        location: safeTarget,
        'set-cookie': `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`,
      });
      return response.end();
    }
    if (!path.startsWith('/api/') && !path.startsWith('/auth/')) {
      if (method !== 'GET') return sendError(response, 405, 'PDK_STAND_IN_METHOD', 'GET only', 'use GET');
      return serveConsole(path, response);
    }

    const session = sessionOf(request);
    if (!session)
      return sendError(response, 401, 'PDK_AUTH_REQUIRED', 'Sign in first.', 'Open the console and sign in.');
    const user = session.user;
    const bodyText = await readBody(request);
    let body: unknown;
    try {
      body = bodyText ? JSON.parse(bodyText) : undefined;
    } catch {
      return sendError(response, 400, 'PDK_STAND_IN_JSON', 'bad JSON', 'send JSON');
    }
    if (method !== 'GET') {
      changes.push({
        method,
        path,
        userId: user.id,
        origin: request.headers.origin,
        contentType: request.headers['content-type'],
        body,
      });
    }

    if (method === 'POST' && path === '/auth/logout') {
      sessions.delete(session.id);
      response.writeHead(204, { 'set-cookie': `${COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0` });
      return response.end();
    }
    if (method === 'GET' && path === '/api/me') {
      return sendJson(response, 200, {
        user: { id: user.id, displayName: user.displayName, groups: user.groups },
        admin: user.admin,
        reviewer: user.reviewer,
        session: {
          id: session.id,
          expiresAt: session.createdAt + 8 * 3600_000,
          idleExpiresAt: Date.now() + 30 * 60_000,
        },
      });
    }
    if (method === 'GET' && path === '/api/workspaces') {
      return sendJson(response, 200, {
        workspaces: workspaces.filter((workspace) => user.admin || workspace.owner === user.id),
      });
    }
    const action = /^\/api\/workspaces\/([^/]+)\/actions\/([a-z]+)$/.exec(path);
    if (method === 'POST' && action) {
      const workspace = workspaces.find((candidate) => candidate.id === decodeURIComponent(action[1] ?? ''));
      if (!workspace || (!user.admin && workspace.owner !== user.id))
        return sendError(response, 404, 'PDK_WORKSPACE_NOT_FOUND', 'no such workspace', 'check the id');
      const next: Record<string, string> = {
        start: 'running',
        stop: 'stopped',
        rebuild: 'running',
        revoke: 'revoked',
        decommission: 'decommissioned',
      };
      const state = next[action[2] ?? ''];
      if (!state) return sendError(response, 400, 'PDK_STAND_IN_ACTION', 'unknown action', 'see the docs');
      workspace.state = state;
      workspace.stateVersion++;
      workspace.updatedAt = Date.now();
      return sendJson(response, 200, workspace);
    }
    const activity = /^\/api\/workspaces\/([^/]+)\/activity$/.exec(path);
    if (method === 'GET' && activity) {
      return sendJson(response, 200, {
        events: [
          {
            time: new Date(Date.now() - 60_000).toISOString(),
            className: 'Application Lifecycle',
            activity: 'Start',
            summary: 'workspace started',
          },
          {
            time: new Date(Date.now() - 30_000).toISOString(),
            className: 'Network Activity',
            activity: 'Open',
            summary: 'CONNECT api.github.com:443',
            decision: 'allow',
          },
        ],
      });
    }
    if (method === 'GET' && path === '/api/recordings') {
      const workspaceId = url.searchParams.get('workspace');
      return sendJson(response, 200, {
        recordings: recordings
          .filter(
            (recording) =>
              recording.workspaceId === workspaceId && (user.admin || recording.userId === user.id),
          )
          .map(({ cast: _cast, ...view }) => view),
      });
    }
    const recording = /^\/api\/recordings\/([^/]+)$/.exec(path);
    if (method === 'GET' && recording) {
      const found = recordings.find((candidate) => candidate.id === recording[1]);
      if (!found)
        return sendError(response, 404, 'PDK_RECORDING_NOT_FOUND', 'no such recording', 'check the id');
      response.writeHead(200, { 'content-type': 'application/x-asciicast' });
      return response.end(found.cast);
    }
    if (method === 'GET' && path === '/api/reviews') {
      const status = url.searchParams.get('status');
      return sendJson(response, 200, {
        reviews: reviews
          .filter((review) => !status || review.status === status)
          .map((review) => ({
            ...review,
            mine: review.requester === user.id,
            canAnswer: review.status === 'pending' && review.requester !== user.id && user.reviewer,
          })),
      });
    }
    const review = /^\/api\/reviews\/([^/]+?)(?:\/(approve|deny))?$/.exec(path);
    if (review) {
      const index = reviews.findIndex((candidate) => candidate.id === decodeURIComponent(review[1] ?? ''));
      const found = reviews[index];
      if (!found) return sendError(response, 404, 'PDK_REVIEW_NOT_FOUND', 'no such review', 'check the id');
      if (method === 'GET' && !review[2]) return sendJson(response, 200, { review: found });
      if (method === 'POST' && review[2]) {
        const reason = (body as { reason?: unknown } | undefined)?.reason;
        if (typeof reason !== 'string' || reason.trim() === '')
          return sendError(response, 400, 'PDK_REVIEW_REASON', 'a reason is required', 'give a reason');
        const at = new Date().toISOString();
        const approvals =
          review[2] === 'approve' ? [...found.approvals, { reviewer: user.id, reason, at }] : found.approvals;
        const decided = review[2] === 'deny' || approvals.length >= found.minApprovals;
        const updated: ReviewView = {
          ...found,
          approvals,
          status: review[2] === 'deny' ? 'denied' : decided ? 'approved' : 'pending',
          decidedAt: decided ? at : null,
          decidedBy: decided ? user.id : null,
          decisionReason: decided ? reason : null,
        };
        reviews[index] = updated;
        return sendJson(response, 200, { review: updated });
      }
    }
    if (method === 'GET' && path === '/api/sessions') {
      return sendJson(response, 200, {
        sessions: [...sessions.values()]
          .filter((candidate) => user.admin || candidate.user.id === user.id)
          .map((candidate) => ({
            id: candidate.id,
            userId: candidate.user.id,
            createdAt: candidate.createdAt,
            expiresAt: candidate.createdAt + 8 * 3600_000,
            lastSeenAt: candidate.lastSeenAt,
          })),
      });
    }
    const sessionPath = /^\/api\/sessions\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && sessionPath && user.admin) {
      sessions.delete(sessionPath[1] ?? '');
      response.writeHead(204);
      return response.end();
    }
    return sendError(
      response,
      404,
      'PDK_STAND_IN_ROUTE',
      `no route ${method} ${path}`,
      'see docs/console.md',
    );
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      sendError(response, 500, 'PDK_STAND_IN_FAILED', String(error), 'see the test output');
    });
  });

  const terminals = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', origin);
    const match = /^\/api\/workspaces\/([^/]+)\/terminal$/.exec(url.pathname);
    const session = sessionOf(request);
    const workspace = workspaces.find((candidate) => candidate.id === decodeURIComponent(match?.[1] ?? ''));
    if (
      !match ||
      !session ||
      request.headers.origin !== origin ||
      !workspace ||
      workspace.owner !== session.user.id
    ) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    const cols = Number(url.searchParams.get('cols'));
    const rows = Number(url.searchParams.get('rows'));
    terminals.handleUpgrade(request, socket, head, (ws) => {
      attachTerminal(ws, workspace, session.user, cols, rows);
    });
  });

  const attachTerminal = (
    ws: WebSocket,
    workspace: StandInWorkspace,
    user: StandInUser,
    cols: number,
    rows: number,
  ) => {
    sockets.add(ws);
    const started = Date.now();
    const [file, ...args] = options.shell;
    const shell = pty.spawn(file ?? 'sh', args, {
      name: 'xterm-256color',
      cols: cols || 80,
      rows: rows || 24,
      cwd: options.shellCwd,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        TERM: 'xterm-256color',
        PS1: '$ ',
        HOME: options.shellCwd,
      },
    });
    const record: StandInRecording = {
      id: `rec-${recordings.length + 1}`,
      workspaceId: workspace.id,
      userId: user.id,
      startedAt: started,
      cast:
        JSON.stringify({
          version: 2,
          width: cols || 80,
          height: rows || 24,
          timestamp: Math.floor(started / 1000),
        }) + '\n',
    };
    recordings.push(record);
    const finish = () => {
      if (record.endedAt) return;
      record.endedAt = Date.now();
      record.sizeBytes = Buffer.byteLength(record.cast);
      record.sha256 = createHash('sha256').update(record.cast).digest('hex');
    };
    shell.onData((data) => {
      record.cast += JSON.stringify([(Date.now() - started) / 1000, 'o', data]) + '\n';
      if (ws.readyState === ws.OPEN) ws.send(Buffer.from(data, 'utf8'), { binary: true });
    });
    shell.onExit(({ exitCode, signal }) => {
      finish();
      if (ws.readyState === ws.OPEN) {
        ws.send(JSON.stringify({ type: 'exit', exitCode, signal: signal ? String(signal) : null }));
        ws.close(1000);
      }
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        shell.write(
          Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'),
        );
        return;
      }
      const message = JSON.parse(data.toString()) as { type?: string; cols?: number; rows?: number };
      if (message.type === 'resize' && message.cols && message.rows) {
        resizes.push({ cols: message.cols, rows: message.rows });
        record.cast +=
          JSON.stringify([(Date.now() - started) / 1000, 'r', `${message.cols}x${message.rows}`]) + '\n';
        shell.resize(message.cols, message.rows);
      }
    });
    ws.on('close', () => {
      sockets.delete(ws);
      finish();
      shell.kill();
    });
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: origin,
    changes,
    refused,
    reviews,
    workspaces,
    recordings,
    resizes,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      terminals.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
