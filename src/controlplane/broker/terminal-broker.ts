import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { type OcsfEvent, terminalAccessEvent, terminalRecordedEvent } from '../../audit/index.ts';
import { isPaddockError, type PaddockError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { createLogger } from '../../core/log.ts';
import type { Principal } from '../identity/principal.ts';
import { type LiveTerminal, LiveTerminals } from './live-terminals.ts';
import { type AttachContext, admitAttach, refuseUpgrade } from './admission.ts';
import {
  CLOSE_CODES,
  closedMessage,
  exitMessage,
  parseClientControl,
  type TerminalMode,
} from './protocol.ts';
import { type RecordingInfo, RecordingWriter } from './recording.ts';
import type { Terminal, TerminalExit, TerminalSize, TerminalTarget } from './terminal-target.ts';

// The browser / CLI / SSH side of the access broker: one WebSocket per attach, relayed to a
// terminal the workspace opened, recorded, audited, and bound to the user's session. The HTTP
// server authenticates the principal and checks that the workspace is theirs before it hands
// the upgrade here; this module checks the Origin again, bounds everything the client sends,
// and never lets a slow reader or a flooding writer grow memory without bound.

const log = createLogger('broker');

/** How long a closing client has to answer the close frame before its socket is cut. */
const CLOSE_HANDSHAKE_MS = 2000;

export interface TerminalBrokerOptions {
  /** Where recordings go: DATA_DIR/recordings, outside every workspace. Created 0700. */
  readonly recordingsDir: string;
  /** Receives every terminal event; awaited, and a failure refuses the attach (fail closed). */
  readonly audit: (event: OcsfEvent) => Promise<unknown>;
  /**
   * Origins (scheme://host[:port]) a browser may attach from. A request with an Origin header
   * not in this list is refused with 403 (PDK_AUTH_ORIGIN), even if the server let it through.
   * Requests without Origin are not from a browser page (the CLI); they pass. Empty: no browser.
   */
  readonly allowedOrigins: readonly string[];
  /**
   * Asked every sessionCheckIntervalMs for each session with a live terminal; false closes its
   * terminals (an expiry nobody announced). Default: none (closeSessionTerminals only).
   */
  readonly sessionActive?: (sessionId: string) => boolean | Promise<boolean>;
  /** Default 2000 ms (so an expired session's terminals close within 5 s); 100..60000. */
  readonly sessionCheckIntervalMs?: number;
  /** Largest WebSocket frame accepted, bytes. Default 65536; larger closes with 1009. */
  readonly maxFrameBytes?: number;
  /** Output bytes queued toward the client and the recording above which the terminal is paused. Default 262144. */
  readonly outputHighWaterBytes?: number;
  /** Output backlog at which a terminal that cannot pause is closed (1013). Default 8 MiB. */
  readonly maxOutputBacklogBytes?: number;
  /** Sustained input rate per attach, bytes/s; above it the socket is paused (TCP pushes back). Default 1 MiB/s. */
  readonly inputBytesPerSecond?: number;
  /** Record keystrokes as asciicast "i" events. Default false: input carries secrets typed at hidden prompts. */
  readonly recordInput?: boolean;
  readonly now?: () => number;
}

export interface TerminalBroker {
  /**
   * Takes over an HTTP upgrade of `GET /api/workspaces/:id/terminal?cols=&rows=[&mode=ssh]`
   * once the server has authenticated `principal` and checked that `target`'s workspace is
   * theirs. Answers 400/403 on the raw socket for a bad query or Origin; otherwise upgrades.
   */
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    principal: Principal,
    target: TerminalTarget,
  ): Promise<void>;
  /**
   * The same for a socket the server already upgraded (its own WebSocketServer): refuses a bad
   * Origin or query by closing with 1008, then relays. Frames above maxFrameBytes close with 1009.
   */
  attachWebSocket(
    ws: WebSocket,
    request: IncomingMessage,
    principal: Principal,
    target: TerminalTarget,
  ): Promise<void>;
  /** Closes every live terminal of a session (revocation, logout); resolves once they are closed. */
  closeSessionTerminals(sessionId: string, reason: string): Promise<number>;
  listLiveTerminals(): LiveTerminal[];
  /** Closes every terminal and stops the session checks. */
  close(): Promise<void>;
}

interface Bounds {
  readonly highWater: number;
  readonly lowWater: number;
  readonly maxBacklog: number;
  readonly inputRate: number;
}

function boundedOption(value: number | undefined, fallback: number, min: number, max: number, name: string) {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be ${min}..${max}`);
  return v;
}

/**
 * The access broker's terminal relay. Mount `handleUpgrade` on the terminal route.
 * @example const broker = createTerminalBroker({ recordingsDir, audit, allowedOrigins: [publicUrl] });
 *   server.on('upgrade', async (req, socket, head) => broker.handleUpgrade(req, socket, head, principal, target));
 */
export function createTerminalBroker(options: TerminalBrokerOptions): TerminalBroker {
  const maxFrameBytes = boundedOption(options.maxFrameBytes, 65_536, 1024, 16 * 1024 * 1024, 'maxFrameBytes');
  const highWater = boundedOption(
    options.outputHighWaterBytes,
    262_144,
    4096,
    64 * 1024 * 1024,
    'outputHighWaterBytes',
  );
  const bounds: Bounds = {
    highWater,
    lowWater: Math.floor(highWater / 4),
    maxBacklog: boundedOption(
      options.maxOutputBacklogBytes,
      8 * 1024 * 1024,
      highWater,
      1024 ** 3,
      'maxOutputBacklogBytes',
    ),
    inputRate: boundedOption(
      options.inputBytesPerSecond,
      1024 * 1024,
      1024,
      1024 ** 3,
      'inputBytesPerSecond',
    ),
  };
  const interval = boundedOption(options.sessionCheckIntervalMs, 2000, 100, 60_000, 'sessionCheckIntervalMs');
  const now = options.now ?? Date.now;
  const live = new LiveTerminals();
  // perMessageDeflate off: no compression bombs, no latency, and no CRIME-style leaks of typed secrets.
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes, perMessageDeflate: false });

  let checking = false;
  const timer = options.sessionActive
    ? setInterval(async () => {
        if (checking) return;
        checking = true;
        try {
          for (const sessionId of live.sessions()) {
            let active = false;
            try {
              active = await options.sessionActive!(sessionId);
            } catch (error) {
              log.error(
                { session: sessionId, error: (error as Error).message },
                'session check failed; closing',
              );
            }
            if (!active) await live.endSession(sessionId, 'session expired', 'session_expired');
          }
        } finally {
          checking = false;
        }
      }, interval)
    : undefined;
  timer?.unref();

  const admit = (request: IncomingMessage, principal: Principal, target: TerminalTarget) =>
    admitAttach(request, principal, target, options.allowedOrigins, async (event) => {
      // Refused whether or not the audit log takes the event.
      await options.audit(event).catch((error) => {
        log.error(
          { workspace: target.workspaceId, error: (error as Error).message },
          'terminal audit event lost',
        );
      });
    });

  async function handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    principal: Principal,
    target: TerminalTarget,
  ): Promise<void> {
    const admitted = await admit(request, principal, target);
    if (!admitted.ok) {
      refuseUpgrade(socket, admitted.status, admitted.error);
      return;
    }
    await new Promise<void>((resolve) => {
      wss.handleUpgrade(request, socket, head, (ws) => {
        attach(ws, principal, target, admitted.query, admitted.who).then(resolve, (error) => {
          log.error({ error: (error as Error).message }, 'terminal attach failed');
          resolve();
        });
      });
    });
  }

  async function attachWebSocket(
    ws: WebSocket,
    request: IncomingMessage,
    principal: Principal,
    target: TerminalTarget,
  ): Promise<void> {
    ws.pause();
    const admitted = await admit(request, principal, target);
    if (!admitted.ok) {
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(closedMessage(admitted.error.message));
        ws.close(CLOSE_CODES.policyViolation, admitted.error.message.slice(0, 100));
        ws.resume();
        setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_MS).unref();
      }
      return;
    }
    try {
      await attach(ws, principal, target, admitted.query, admitted.who);
    } catch (error) {
      log.error({ error: (error as Error).message }, 'terminal attach failed');
    }
  }

  async function attach(
    ws: WebSocket,
    principal: Principal,
    target: TerminalTarget,
    query: TerminalSize & { mode: TerminalMode },
    who: AttachContext,
  ): Promise<void> {
    const attachId = newId();
    const startedAt = now();
    const access = { ...who, attachId, mode: query.mode };
    // Until the terminal is open, the client's frames have nowhere to go: hold none.
    ws.pause();

    let ended: Promise<void> | undefined;
    let exitCode: number | null | undefined;
    let terminal: Terminal | undefined;
    let recording: RecordingWriter | undefined;
    const pending: OcsfEvent[] = [];
    let tokens = bounds.inputRate;
    let inputPaused = false;
    // Output: terminal → recording and client, paused above the high-water mark.
    let inFlight = 0;
    let paused = false;
    const backlog = () => inFlight + (recording?.backlogBytes ?? 0);
    const maybeResume = () => {
      if (paused && backlog() <= bounds.lowWater) {
        paused = false;
        terminal?.resume?.();
      }
    };
    // Input: a token bucket per attach; an empty bucket pauses the socket (TCP pushes back).
    // The same tick resumes paused output once the recording drained (its writes have no callback here).
    const refill = setInterval(() => {
      maybeResume();
      tokens = Math.min(bounds.inputRate, tokens + bounds.inputRate / 10);
      if (inputPaused && tokens > 0) {
        inputPaused = false;
        ws.resume();
      }
    }, 100);
    refill.unref();

    const end = (closeReason: string, code: number, message: string, revokedCode?: string): Promise<void> => {
      ended ??= (async () => {
        live.remove(attachId);
        clearInterval(refill);
        terminal?.close();
        if (ws.readyState === WebSocket.OPEN) {
          if (code !== CLOSE_CODES.normal) ws.send(closedMessage(message));
          ws.close(code, message.slice(0, 100));
          // Read again so the client's close frame is seen (frames after this are dropped);
          // a client that never answers the close is cut off rather than held for ws's 30 s.
          ws.resume();
          setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_MS).unref();
        }
        if (revokedCode) {
          pending.push(
            terminalAccessEvent({
              ...access,
              event: 'terminal.revoked',
              reasonCode: revokedCode,
              reason: message,
            }),
          );
        }
        if (recording) {
          try {
            const sealed = await recording.seal({ closeReason, exitCode });
            if (terminal) {
              pending.push(
                terminalRecordedEvent({
                  ...who,
                  attachId,
                  path: sealed.path,
                  sha256: sealed.sha256,
                  sizeBytes: sealed.sizeBytes,
                  startedAt,
                  endedAt: sealed.info.endedAt ?? now(),
                  exitCode,
                  closeReason,
                }),
              );
            }
          } catch (error) {
            log.error({ attach: attachId, error: (error as Error).message }, 'recording failed');
          }
        }
        for (const event of pending.splice(0)) {
          await options.audit(event).catch((error) => {
            log.error({ attach: attachId, error: (error as Error).message }, 'terminal audit event lost');
          });
        }
      })();
      return ended;
    };
    // Registered before the terminal opens, so a session revoked meanwhile still ends it.
    live.add(
      {
        attachId,
        sessionId: principal.sessionId,
        userId: principal.userId,
        workspaceId: target.workspaceId,
        mode: query.mode,
        startedAt,
      },
      (reason, reasonCode) => end(reasonCode, CLOSE_CODES.sessionEnded, reason, reasonCode),
    );
    ws.on('close', () => void end('client_closed', CLOSE_CODES.normal, 'client closed'));
    ws.on('error', () => void end('client_error', CLOSE_CODES.normal, 'client error'));

    try {
      // SSH streams are end-to-end encrypted between the client and the workspace's sshd:
      // the broker cannot record them (docs/broker.md).
      if (query.mode === 'shell') {
        recording = await RecordingWriter.open(options.recordingsDir, {
          id: attachId,
          workspaceId: target.workspaceId,
          userId: principal.userId,
          sessionId: principal.sessionId,
          size: query,
          title: `${principal.userId} @ ${target.workspaceId}`,
          recordInput: options.recordInput,
          now,
        });
      }
      if (ended) return;
      const opened = await target.open({ ...query, userId: principal.userId, attachId, mode: query.mode });
      if (ended) {
        opened.close();
        return;
      }
      terminal = opened;
    } catch (error) {
      if (ended) return;
      const reason = isPaddockError(error) && error.expose ? error.message : 'terminal unavailable';
      log.info(
        { workspace: target.workspaceId, attach: attachId, code: (error as PaddockError).code },
        'terminal not opened',
      );
      pending.push(
        terminalAccessEvent({
          ...access,
          event: 'terminal.denied',
          reasonCode: 'terminal_unavailable',
          reason,
        }),
      );
      const code = isPaddockError(error, 'PDK_BROKER_RECORDING')
        ? CLOSE_CODES.internalError
        : CLOSE_CODES.unavailable;
      await end('not_opened', code, reason);
      return;
    }
    try {
      await options.audit(terminalAccessEvent({ ...access, event: 'terminal.attached' }));
    } catch (error) {
      await end('audit_failed', CLOSE_CODES.internalError, 'audit unavailable');
      throw error;
    }
    if (ended) return;
    const shell = terminal;

    shell.onData((data) => {
      if (ended) return;
      recording?.output(data);
      inFlight += data.byteLength;
      ws.send(data, { binary: true }, () => {
        inFlight -= data.byteLength;
        maybeResume();
      });
      const queued = backlog();
      if (queued > bounds.maxBacklog) {
        void end(
          'output_backlog',
          CLOSE_CODES.tryAgainLater,
          'output backlog exceeded: the client reads too slowly',
        );
      } else if (!paused && queued > bounds.highWater && shell.pause) {
        paused = true;
        shell.pause();
      }
    });
    shell.onExit((exit: TerminalExit) => {
      exitCode = exit.exitCode;
      if (ws.readyState === WebSocket.OPEN) ws.send(exitMessage(exit));
      void end('exited', CLOSE_CODES.normal, 'exited');
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (ended) return;
      const bytes = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      // A socket upgraded by another WebSocketServer may have a larger maxPayload than ours.
      if (bytes.byteLength > maxFrameBytes) {
        void end('frame_too_big', CLOSE_CODES.tooBig, 'frame too large');
        return;
      }
      if (isBinary) {
        tokens -= bytes.byteLength;
        shell.write(bytes);
        recording?.input(bytes);
        if (tokens <= 0 && !inputPaused) {
          inputPaused = true;
          ws.pause();
        }
        return;
      }
      const control = parseClientControl(bytes.toString('utf8'));
      if (!control) {
        void end('protocol_violation', CLOSE_CODES.policyViolation, 'unknown or malformed control message');
        return;
      }
      shell.resize(control);
      recording?.resize(control);
    });
    ws.resume();
  }

  return {
    handleUpgrade,
    attachWebSocket,
    closeSessionTerminals: (sessionId, reason) => live.endSession(sessionId, reason, 'session_revoked'),
    listLiveTerminals: () => live.list(),
    async close() {
      if (timer) clearInterval(timer);
      await live.endAll('server shutting down', 'server_shutdown');
      wss.close();
    },
  };
}

export type { LiveTerminal, RecordingInfo };
