import { chmodSync, chownSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { OcsfEvent } from '../../audit/index.ts';
import { createLogger, isPaddockError, PaddockError } from '../../core/index.ts';
import type { DecisionPoint, DecisionRequest, PolicyDecision, PolicyPrincipal } from '../../policy/index.ts';
import { type PdpAuditContext, pdpDecisionEvent, type Redact } from './decision-events.ts';
import { gateDecision, heldCallFor, type PdpReviewOptions, type ReviewAnswer } from './pdp-review.ts';
import { parseRequestLine, type RequestId, responseLine } from './protocol.ts';

// The supervisor serves its decision point on a unix socket the launcher mounts read-only into
// the sandbox (SANDBOX_PATHS.pdpSocket). Hook clients and the MCP shim ask it; the gateway calls
// the decision point in process. Decisions are synchronous and microseconds long, so a
// connection's requests are answered in order as their lines arrive; what bounds a connection is
// its line size, its unread answers (reading pauses until the client drains them) and its idle
// time, and what bounds the server is its connection count.

/** Options of `startPdpServer`. */
export interface PdpServerOptions {
  /** Where to listen. The parent directory is created (0755) when missing; a stale socket is replaced. */
  readonly socketPath: string;
  /** The bundle's decision point; `setDecisionPoint` swaps it atomically when a bundle is applied. */
  readonly decisionPoint: DecisionPoint;
  /** The session this socket serves: every request is decided for it. */
  readonly principal: PolicyPrincipal;
  /** Receives one OCSF event per answer. If it throws, the answer is deny `audit_unavailable`. */
  readonly emit: (event: OcsfEvent) => void;
  readonly audit: PdpAuditContext;
  /** Redaction for argv words and URLs recorded in events (the blueprint's logging). Default none. */
  readonly redact?: Redact;
  /** Socket file mode. Default 0o600: with `owner` set to the sandbox's host uid, only it (and root) connects. */
  readonly mode?: number;
  /** Owner of the socket file, normally the sandbox's dedicated host uid and gid. Default: unchanged (root). */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /**
   * The run's review gate. With it a `review` decision becomes a held call: approved → allow
   * (that one call), pending → `review` with the review's id and message, denied or a failing
   * gate → deny. Without it `review` is answered as the bundle decided. Default none.
   */
  readonly review?: PdpReviewOptions;
  /** Longest request line, bytes. Default 65536 (64 KiB); a longer one is denied and the connection closed. */
  readonly maxLineBytes?: number;
  /** Most simultaneous connections. Default 64; more are refused by the kernel backlog and closed. */
  readonly maxConnections?: number;
  /** A connection idle this long is closed, milliseconds. Default 300000 (5 min). */
  readonly idleTimeoutMs?: number;
}

/** A running PDP socket. */
export interface PdpServer {
  readonly socketPath: string;
  /** Applies a new bundle's decision point; answers after this call use it. */
  setDecisionPoint(decisionPoint: DecisionPoint): void;
  /** Stops listening, closes every connection and removes the socket file. */
  close(): Promise<void>;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const log = createLogger('pdp');

/** Held calls one connection may have waiting for the review gate before reading pauses. */
const MAX_HELD_PER_CONNECTION = 8;

/**
 * Starts serving. Throws PDK_POLICY_SOCKET when the socket cannot be created.
 *
 * @example
 * const server = await startPdpServer({ socketPath: '/run/paddock/s-1/pdp.sock', decisionPoint,
 *   principal, emit: (event) => spool.append(event), audit: { workspaceId, sessionId },
 *   owner: { uid: sandbox.uid, gid: sandbox.uid } });
 */
export async function startPdpServer(options: PdpServerOptions): Promise<PdpServer> {
  let decisionPoint = options.decisionPoint;
  const maxLineBytes = options.maxLineBytes ?? 65536;
  const sockets = new Set<Socket>();

  const answer = (
    id: RequestId,
    fields: unknown,
    decision: PolicyDecision,
    error?: { code: string; message: string },
    review?: ReviewAnswer['review'],
  ) => {
    try {
      options.emit(pdpDecisionEvent(fields, decision, options.audit, options.redact));
    } catch {
      // An answer nobody can audit is not given: fail closed.
      const denied: PolicyDecision = {
        ...decision,
        decision: 'deny',
        reason: 'audit_unavailable',
        policyIds: [],
      };
      return responseLine(id, denied, error);
    }
    return responseLine(id, decision, error, review);
  };
  const refusal = (reason: string, detail: string): PolicyDecision => ({
    decision: 'deny',
    reason,
    policyIds: [],
    bundle: decisionPoint.bundle,
    detail,
  });

  // A held call waits for the queue (a store write): its answer is a promise, never rejected.
  const held = async (id: RequestId, fields: unknown, request: DecisionRequest, decision: PolicyDecision) => {
    const review = options.review as PdpReviewOptions;
    let gated: ReviewAnswer;
    try {
      const call = heldCallFor(request, decision, options.principal.session, review);
      gated = gateDecision(decision, await review.gate.request(call));
    } catch (error) {
      log.error({ error: (error as Error).message }, 'review gate failed');
      // A workspace's gate says why the control plane did not answer; a store's error stays in the log.
      const why = isPaddockError(error, 'PDK_CHANNEL_REVIEW')
        ? error.message
        : 'the review queue failed; the call is refused';
      return answer(id, fields, refusal('review_unavailable', why));
    }
    return answer(id, fields, gated.decision, undefined, gated.review);
  };

  const handleLine = (bytes: Buffer): string | Promise<string> => {
    let line: string;
    try {
      line = decoder.decode(bytes);
    } catch {
      const detail = 'the line is not UTF-8';
      return answer(null, undefined, refusal('request_invalid', detail), {
        code: 'PDK_POLICY_REQUEST_INVALID',
        message: detail,
      });
    }
    const parsed = parseRequestLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    if ('error' in parsed) {
      return answer(parsed.id, parsed.fields, refusal('request_invalid', parsed.error), {
        code: 'PDK_POLICY_REQUEST_INVALID',
        message: parsed.error,
      });
    }
    const request = { ...parsed.request, principal: options.principal };
    const decision = decisionPoint.decide(request);
    if (decision.decision === 'review' && options.review)
      return held(parsed.id, parsed.request, parsed.request, decision);
    return answer(parsed.id, parsed.request, decision);
  };

  const serve = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(options.idleTimeoutMs ?? 300_000, () => socket.destroy());
    socket.on('drain', () => socket.resume());
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let closing = false;
    const send = (text: string) => {
      if (!socket.write(text)) socket.pause();
    };
    // Answers leave in request order: once one waits for the review gate, later ones queue
    // behind it, and reading pauses while MAX_HELD_PER_CONNECTION are outstanding.
    let outstanding = 0;
    let chain: Promise<void> = Promise.resolve();
    const deliver = (out: string | Promise<string>, end = false) => {
      if (typeof out === 'string' && outstanding === 0) {
        if (end) socket.end(out);
        else send(out);
        return;
      }
      outstanding++;
      if (outstanding >= MAX_HELD_PER_CONNECTION) socket.pause();
      chain = chain
        .then(async () => {
          const text = await out;
          if (socket.destroyed) return;
          if (end) socket.end(text);
          else send(text);
        })
        .finally(() => {
          outstanding--;
          if (outstanding < MAX_HELD_PER_CONNECTION && !socket.writableNeedDrain) socket.resume();
        });
    };
    socket.on('data', (chunk: Buffer) => {
      let rest = chunk;
      while (!closing) {
        const newline = rest.indexOf(0x0a);
        const lineBytes = pendingBytes + (newline < 0 ? rest.length : newline);
        if (lineBytes > maxLineBytes) {
          closing = true;
          const detail = `request line longer than ${maxLineBytes} bytes`;
          deliver(
            answer(null, undefined, refusal('request_too_large', detail), {
              code: 'PDK_POLICY_REQUEST_TOO_LARGE',
              message: detail,
            }),
            true,
          );
          return;
        }
        if (newline < 0) break;
        const line =
          pending.length === 0
            ? rest.subarray(0, newline)
            : Buffer.concat([...pending, rest.subarray(0, newline)]);
        pending = [];
        pendingBytes = 0;
        rest = rest.subarray(newline + 1);
        if (line.length > 0 && !(line.length === 1 && line[0] === 0x0d)) deliver(handleLine(line));
      }
      if (!closing && rest.length > 0) {
        pending.push(rest);
        pendingBytes += rest.length;
      }
    });
  };

  const server: Server = createServer(serve);
  server.maxConnections = options.maxConnections ?? 64;
  try {
    mkdirSync(dirname(options.socketPath), { recursive: true, mode: 0o755 });
    removeStaleSocket(options.socketPath);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(options.socketPath, options.mode ?? 0o600);
    if (options.owner) chownSync(options.socketPath, options.owner.uid, options.owner.gid);
  } catch (error) {
    server.close();
    if (error instanceof PaddockError) throw error;
    throw new PaddockError(
      'PDK_POLICY_SOCKET',
      `cannot serve the PDP on ${options.socketPath}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }

  return {
    socketPath: options.socketPath,
    setDecisionPoint(next) {
      decisionPoint = next;
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          removeStaleSocket(options.socketPath);
          resolve();
        });
      });
    },
  };
}

/** Removes a socket left by an earlier run; anything else at the path is an error. */
function removeStaleSocket(path: string): void {
  let kind: 'socket' | 'other' | 'missing';
  try {
    kind = lstatSync(path).isSocket() ? 'socket' : 'other';
  } catch {
    kind = 'missing';
  }
  if (kind === 'other')
    throw new PaddockError(
      'PDK_POLICY_SOCKET',
      `${path} exists and is not a socket; remove it or choose another path`,
    );
  if (kind === 'socket') unlinkSync(path);
}
