import { WebSocket } from 'ws';
import { parseServerControl, type ServerControl } from '../../../../src/controlplane/broker/protocol.ts';

// A real WebSocket client of the terminal route: collects output and control messages, and
// waits for text or for the close.

export interface TerminalClient {
  readonly ws: WebSocket;
  /** Everything the terminal printed so far. */
  output(): string;
  readonly controls: ServerControl[];
  /** Resolves once the output contains `text` (rejects after timeoutMs). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  readonly closed: Promise<{ code: number; reason: string; at: number }>;
  type(text: string): void;
  resize(cols: number, rows: number): void;
}

export interface ConnectOptions {
  readonly token?: string;
  readonly origin?: string;
  readonly cols?: number;
  readonly rows?: number;
  readonly query?: string;
}

/** Opens the terminal of `workspaceId`; rejects with the HTTP status when the upgrade is refused. */
export function connectTerminal(
  baseUrl: string,
  workspaceId: string,
  options: ConnectOptions = {},
): Promise<TerminalClient> {
  const query = options.query ?? `cols=${options.cols ?? 80}&rows=${options.rows ?? 24}`;
  const headers: Record<string, string> = {};
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  const ws = new WebSocket(`${baseUrl}/api/workspaces/${workspaceId}/terminal?${query}`, {
    headers,
    origin: options.origin,
    perMessageDeflate: false,
  });
  let text = '';
  const controls: ServerControl[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data, isBinary) => {
    if (isBinary) text += Buffer.from(data as Buffer).toString('utf8');
    else {
      const control = parseServerControl(Buffer.from(data as Buffer).toString('utf8'));
      if (control) controls.push(control);
    }
    for (const wake of waiters) wake();
  });
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), at: performance.now() }));
  });
  const client: TerminalClient = {
    ws,
    output: () => text,
    controls,
    closed,
    type: (input) => ws.send(Buffer.from(input), { binary: true }),
    resize: (cols, rows) => ws.send(JSON.stringify({ type: 'resize', cols, rows })),
    waitFor(pattern, timeoutMs = 15_000) {
      const matches = () => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
      if (matches()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`timed out waiting for ${pattern}; output so far: ${JSON.stringify(text.slice(-500))}`),
          );
        }, timeoutMs);
        const check = () => {
          if (!matches()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_request, response) => {
      reject(Object.assign(new Error(`HTTP ${response.statusCode}`), { status: response.statusCode }));
    });
    ws.once('error', reject);
  });
}
