// The browser side of the terminal WebSocket: binary frames carry terminal bytes both ways,
// text frames carry JSON control messages. Pure, so it is tested in Node.

/** The broker's bounds on a terminal's size (src/controlplane/broker/protocol.ts). */
export const MAX_TERMINAL_COLS = 1000;
export const MAX_TERMINAL_ROWS = 500;

export type ServerControl =
  | { readonly type: 'exit'; readonly exitCode: number | null; readonly signal: string | null }
  | { readonly type: 'closed'; readonly reason: string };

/** The WebSocket URL for a workspace's terminal, on the page's own origin. */
export function terminalUrl(
  page: { protocol: string; host: string },
  workspaceId: string,
  cols: number,
  rows: number,
) {
  const scheme = page.protocol === 'https:' ? 'wss:' : 'ws:';
  const size = clampSize(cols, rows);
  const query = new URLSearchParams({ cols: String(size.cols), rows: String(size.rows) });
  return `${scheme}//${page.host}/api/workspaces/${encodeURIComponent(workspaceId)}/terminal?${query}`;
}

/** A size within the broker's bounds (a very wide window must not get the terminal refused). */
export function clampSize(cols: number, rows: number): { cols: number; rows: number } {
  const clamp = (value: number, max: number) => Math.min(max, Math.max(1, Math.floor(value) || 1));
  return { cols: clamp(cols, MAX_TERMINAL_COLS), rows: clamp(rows, MAX_TERMINAL_ROWS) };
}

export function resizeMessage(cols: number, rows: number): string {
  return JSON.stringify({ type: 'resize', ...clampSize(cols, rows) });
}

/** A server control message, or undefined for anything else (ignored, never shown raw). */
export function parseServerControl(text: string): ServerControl | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const message = raw as Record<string, unknown>;
  if (message['type'] === 'exit') {
    const exitCode = typeof message['exitCode'] === 'number' ? message['exitCode'] : null;
    const signal = message['signal'];
    return {
      type: 'exit',
      exitCode,
      signal: typeof signal === 'string' ? signal : null,
    };
  }
  if (message['type'] === 'closed')
    return { type: 'closed', reason: typeof message['reason'] === 'string' ? message['reason'] : 'closed' };
  return undefined;
}

/** How the end of a terminal reads in the status line. */
export function describeControl(control: ServerControl): string {
  if (control.type === 'closed') return `Closed by the control plane: ${control.reason}`;
  if (control.signal !== null) return `The shell ended on signal ${control.signal}.`;
  return `The shell exited with code ${control.exitCode ?? 'unknown'}.`;
}

/** xterm's onBinary hands a string of byte values (0-255); send those bytes as they are. */
export function binaryStringToBytes(data: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(data.length);
  for (let index = 0; index < data.length; index++) bytes[index] = data.charCodeAt(index) & 0xff;
  return bytes;
}
