import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { ReviewInbox } from '../../policy/index.ts';
import { type GroupResolver, localGroups, localReviewer } from './local-identity.ts';
import {
  errorResponse,
  MAX_REQUEST_BYTES,
  parseRequest,
  type ReviewSocketRequest,
  type ReviewSocketResponse,
} from './protocol.ts';

// The standalone supervisor's review socket server. It fronts a ReviewInbox (the review queue
// `paddock run` builds) and adds only transport and local identity: the socket is mode 0600 in a
// directory no one else may write, so only its owner (root) connects; requests are one bounded
// JSON line each, answered and closed; errors that may be shown go back with their code.

const log = createLogger('review-socket');

export interface ReviewSocketOptions {
  /** Socket path; its directory is created 0700 when missing and must not be writable by others. */
  readonly path: string;
  readonly inbox: ReviewInbox;
  /** A local account's groups. Default: `id -Gn ACCOUNT`. */
  readonly groupsOf?: GroupResolver;
  /** How long one connection may take. Default 10000 ms. */
  readonly timeoutMs?: number;
}

export interface ReviewSocketServer {
  readonly path: string;
  /** Stops accepting, waits for open requests, removes the socket file. */
  close(): Promise<void>;
}

function socketError(path: string, message: string, cause?: unknown): PaddockError {
  return new PaddockError('PDK_REVIEW_SOCKET', `review socket ${path}: ${message}`, { cause });
}

/** Fails when another live server holds the path; removes a stale socket left by a crash. */
async function claimPath(path: string): Promise<void> {
  let isSocket = false;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw socketError(path, 'the path exists and is not a socket; choose another path');
  const live = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live)
    throw socketError(
      path,
      'another paddock run already serves reviews here; stop it or choose another socket',
    );
  unlinkSync(path);
}

function prepareDirectory(path: string): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = statSync(dir);
    if ((stat.mode & 0o022) !== 0) {
      throw socketError(
        path,
        `directory ${dir} is writable by others (mode ${(stat.mode & 0o777).toString(8)}); use a private directory`,
      );
    }
  } catch (error) {
    if (error instanceof PaddockError) throw error;
    throw socketError(path, `directory ${dir} could not be prepared: ${(error as Error).message}`, error);
  }
}

/**
 * Serves `inbox` on a unix socket for `paddock review`.
 * @example const server = await serveReviewSocket({ path: '/run/paddock/reviews/run-1/review.sock', inbox: queue });
 */
export async function serveReviewSocket(options: ReviewSocketOptions): Promise<ReviewSocketServer> {
  const { path, inbox } = options;
  const groupsOf = options.groupsOf ?? ((account: string) => localGroups(account));
  const timeoutMs = options.timeoutMs ?? 10_000;
  prepareDirectory(path);
  await claimPath(path);
  const open = new Set<Promise<void>>();
  const server: Server = createServer((socket) => {
    const done = handle(socket, inbox, groupsOf, timeoutMs).finally(() => open.delete(done));
    open.add(done);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(socketError(path, error.message, error)));
    // The socket is created 0600 (no window in which others could connect), then checked.
    const previous = process.umask(0o177);
    try {
      server.listen(path, () => resolve());
    } finally {
      process.umask(previous);
    }
  });
  chmodSync(path, 0o600);
  return {
    path,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...open]);
    },
  };
}

async function handle(
  socket: Socket,
  inbox: ReviewInbox,
  groupsOf: GroupResolver,
  timeoutMs: number,
): Promise<void> {
  socket.setTimeout(timeoutMs, () => socket.destroy());
  socket.on('error', () => {}); // a client that hung up early is not our fault
  let response: ReviewSocketResponse;
  try {
    const line = await readLine(socket);
    const request = parseRequest(line);
    response = { ok: true, result: await dispatch(request, inbox, groupsOf) };
  } catch (error) {
    response = errorResponse(error);
    if (!(error instanceof PaddockError && error.expose)) {
      log.error({ error: (error as Error)?.message ?? String(error) }, 'review socket request failed');
    }
  }
  if (!socket.destroyed) socket.end(`${JSON.stringify(response)}\n`);
}

async function dispatch(
  request: ReviewSocketRequest,
  inbox: ReviewInbox,
  groupsOf: GroupResolver,
): Promise<unknown> {
  switch (request.op) {
    case 'list':
      return inbox.list({ status: request.status, limit: request.limit });
    case 'show':
      return inbox.show(request.id);
    case 'approve':
    case 'deny': {
      const reviewer = await localReviewer(request.login, request.as, groupsOf);
      log.debug(
        { op: request.op, review: request.id, reviewer: reviewer.id, login: request.login },
        'review answer',
      );
      return request.op === 'approve'
        ? inbox.approve(request.id, reviewer, request.reason)
        : inbox.deny(request.id, reviewer, request.reason);
    }
  }
}

function readLine(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      const newline = chunk.indexOf(0x0a);
      const part = newline === -1 ? chunk : chunk.subarray(0, newline);
      size += part.length;
      if (size > MAX_REQUEST_BYTES) {
        cleanup();
        reject(
          new PaddockError(
            'PDK_REVIEW_INVALID',
            `review socket request is longer than ${MAX_REQUEST_BYTES} bytes`,
          ),
        );
        return;
      }
      chunks.push(part);
      if (newline !== -1) {
        cleanup();
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
  });
}
