import { PaddockError } from '../../core/errors.ts';
import type { TerminalExit, TerminalSize } from './terminal-target.ts';

// The terminal WebSocket's wire protocol (docs/broker.md). Binary frames carry terminal bytes
// both ways; text frames carry JSON control messages. Everything a client sends is checked
// here before it reaches a terminal: sizes are bounded, unknown messages are refused.

/** Bounds of a terminal's size, in character cells. */
export const MAX_TERMINAL_COLS = 1000;
export const MAX_TERMINAL_ROWS = 500;
/** Longest control message accepted, in bytes (a resize is about 40). */
export const MAX_CONTROL_MESSAGE_BYTES = 256;

/** WebSocket close codes the broker uses (4000–4999 are application codes). */
export const CLOSE_CODES = {
  /** The shell exited; an `exit` message came first. */
  normal: 1000,
  /** The server is shutting down. */
  goingAway: 1001,
  /** An unknown or malformed message, a bad Origin. */
  policyViolation: 1008,
  /** A frame above the broker's maxFrameBytes (sent by `ws` itself). */
  tooBig: 1009,
  /** The broker failed (recording could not be written). */
  internalError: 1011,
  /** The client read too slowly and the output backlog passed its bound. */
  tryAgainLater: 1013,
  /** The user's session expired, was revoked or signed out (the HTTP server's code for the same, 4401). */
  sessionEnded: 4401,
  /** The workspace could not open the terminal (not running, not connected, sandbox failure). */
  unavailable: 4004,
} as const;

export type TerminalMode = 'shell' | 'ssh';

/** A client → server control message. */
export type ClientControl = { readonly type: 'resize'; readonly cols: number; readonly rows: number };

/** A server → client control message. */
export type ServerControl =
  | { readonly type: 'exit'; readonly exitCode: number | null; readonly signal: string | null }
  | { readonly type: 'closed'; readonly reason: string };

function isCellCount(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
}

/** A size from numbers a client sent; throws PDK_BROKER_REQUEST outside 1..MAX. */
export function checkTerminalSize(cols: unknown, rows: unknown): TerminalSize {
  if (!isCellCount(cols, MAX_TERMINAL_COLS) || !isCellCount(rows, MAX_TERMINAL_ROWS)) {
    throw new PaddockError(
      'PDK_BROKER_REQUEST',
      `terminal size must be 1..${MAX_TERMINAL_COLS} columns and 1..${MAX_TERMINAL_ROWS} rows`,
    );
  }
  return { cols, rows };
}

/** An integer query parameter in plain decimal, or NaN (so `1e3`, `0x10`, `12abc` are refused). */
function decimal(text: string | null): number {
  return text !== null && /^[0-9]{1,5}$/.test(text) ? Number(text) : Number.NaN;
}

/** The attach request's query: `?cols=&rows=[&mode=shell|ssh]`. Throws PDK_BROKER_REQUEST. */
export function parseAttachQuery(search: URLSearchParams): TerminalSize & { readonly mode: TerminalMode } {
  const mode = search.get('mode') ?? 'shell';
  if (mode !== 'shell' && mode !== 'ssh')
    throw new PaddockError('PDK_BROKER_REQUEST', 'mode must be shell or ssh');
  const size =
    mode === 'ssh' && !search.has('cols') && !search.has('rows')
      ? { cols: 80, rows: 24 } // an SSH stream has no terminal of its own here
      : checkTerminalSize(decimal(search.get('cols')), decimal(search.get('rows')));
  return { ...size, mode };
}

/**
 * One text frame from the client. Returns the message, or undefined for anything that is not
 * exactly a known message (the caller closes with policyViolation).
 */
export function parseClientControl(text: string): ClientControl | undefined {
  if (text.length > MAX_CONTROL_MESSAGE_BYTES) return undefined;
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
  const { type, cols, rows, ...rest } = message as Record<string, unknown>;
  if (type !== 'resize' || Object.keys(rest).length > 0) return undefined;
  if (!isCellCount(cols, MAX_TERMINAL_COLS) || !isCellCount(rows, MAX_TERMINAL_ROWS)) return undefined;
  return { type, cols, rows };
}

/** The `exit` message for how a terminal ended. */
export function exitMessage(exit: TerminalExit): string {
  const message: ServerControl = { type: 'exit', exitCode: exit.exitCode, signal: exit.signal };
  return JSON.stringify(message);
}

/** The `closed` message, sent before the broker closes the socket for any reason but an exit. */
export function closedMessage(reason: string): string {
  const message: ServerControl = { type: 'closed', reason };
  return JSON.stringify(message);
}

/** Parses a server → client text frame (for `paddock connect`); undefined when unknown. */
export function parseServerControl(text: string): ServerControl | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  if (
    m['type'] === 'exit' &&
    (m['exitCode'] === null || Number.isInteger(m['exitCode'])) &&
    (m['signal'] === null || typeof m['signal'] === 'string')
  )
    return { type: 'exit', exitCode: m['exitCode'] as number | null, signal: m['signal'] as string | null };
  if (m['type'] === 'closed' && typeof m['reason'] === 'string')
    return { type: 'closed', reason: m['reason'] };
  return undefined;
}
