import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Clock } from '../core/clock.ts';
import { openStore, ReviewQueue, type Store } from '../controlplane/index.ts';
import type { ReviewGate, ReviewUser } from '../policy/index.ts';
import {
  type GroupResolver,
  REVIEW_SOCKET_NAME,
  REVIEW_SOCKETS_DIR,
  type ReviewSocketServer,
  serveReviewSocket,
} from '../supervisor/index.ts';

// Review gates for `paddock run` (the standalone supervisor). The supervisor may not import the
// control plane, and the review queue is control-plane code that must not exist twice (its races
// are settled in one place), so this leaf wires them: the control plane's queue over a SQLite
// file of the run's own, served on the supervisor's review socket for `paddock review`. The
// enforcement points (hooks, MCP gateway, egress gateway) get `gate` injected.

export interface StandaloneReviewsOptions {
  /** The user who started the run: the requester of every held call. */
  readonly requester: ReviewUser;
  /** Appends one audit event: the run's audit chain writer. */
  readonly audit: (event: Record<string, unknown>) => Promise<unknown>;
  /**
   * Default: a socket of this run's own, `<socketsDir>/run-<random>/review.sock`, so concurrent
   * runs never share one; its directory (with the store) is removed on close.
   */
  readonly socketPath?: string;
  /** Where the default socket's directory is made. Default REVIEW_SOCKETS_DIR (/run/paddock/reviews). */
  readonly socketsDir?: string;
  /** Default `reviews.db` beside the socket (root-only directory). */
  readonly storeFile?: string;
  /** Default `local-<requester>`. */
  readonly workspaceId?: string;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Default: `id -Gn`. */
  readonly groupsOf?: GroupResolver;
  /** How often timeouts are swept (and audited). Default 30000 ms. */
  readonly sweepIntervalMs?: number;
}

export interface StandaloneReviews {
  /** Hand to the enforcement points: HeldCall in, GateAnswer out. */
  readonly gate: ReviewGate;
  readonly queue: ReviewQueue;
  readonly socketPath: string;
  /** The workspace id to put in every HeldCall of this run. */
  readonly workspaceId: string;
  readonly requester: ReviewUser;
  /** Stops the sweeper and the socket, then closes the store. */
  close(): Promise<void>;
}

/** The store needs a user and a workspace row for the requests to refer to. */
async function ensureWorkspace(store: Store, requester: ReviewUser, workspaceId: string): Promise<void> {
  if (!(await store.getUser(requester.id))) {
    await store.createUser({
      id: requester.id,
      displayName: requester.name ?? requester.id,
      groups: requester.groups,
    });
  }
  if (!(await store.getWorkspace(workspaceId))) {
    await store.createWorkspace({
      id: workspaceId,
      owner: requester.id,
      profile: 'standalone',
      provider: 'local',
      state: 'running',
    });
  }
}

/**
 * Opens the run's review store, starts the queue's timeout sweeper and serves the review socket.
 * @example
 * const reviews = await startStandaloneReviews({ requester: { id: localLogin(process.env) }, audit });
 * const answer = await reviews.gate.request({ ...call, workspaceId: reviews.workspaceId });
 */
export async function startStandaloneReviews(options: StandaloneReviewsOptions): Promise<StandaloneReviews> {
  // The run's own directory: root-only (serveReviewSocket makes it 0700), removed with the run.
  const ownDir = options.socketPath
    ? undefined
    : join(options.socketsDir ?? REVIEW_SOCKETS_DIR, `run-${randomBytes(8).toString('hex')}`);
  const socketPath = options.socketPath ?? join(ownDir as string, REVIEW_SOCKET_NAME);
  const storeFile = options.storeFile ?? join(dirname(socketPath), 'reviews.db');
  const workspaceId = options.workspaceId ?? `local-${options.requester.id}`;
  const store = await openStore({ url: `sqlite:${storeFile}`, clock: options.clock });
  let server: ReviewSocketServer | undefined;
  try {
    await ensureWorkspace(store, options.requester, workspaceId);
    const queue = new ReviewQueue({ store, audit: options.audit, clock: options.clock });
    server = await serveReviewSocket({ path: socketPath, inbox: queue, groupsOf: options.groupsOf });
    queue.startSweeper(options.sweepIntervalMs);
    const running = server;
    return {
      gate: queue,
      queue,
      socketPath,
      workspaceId,
      requester: options.requester,
      async close() {
        queue.stopSweeper();
        await running.close();
        await store.close();
        if (ownDir) rmSync(ownDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await server?.close();
    await store.close();
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    throw error;
  }
}
