import { connect, type Socket } from 'node:net';
import type { DecisionRequest } from '../../policy/index.ts';
import type { DecideFn, HookDecision } from './types.ts';

// A client of the PDP socket (src/supervisor/pdp/pdp-server.ts, docs/policy.md "Socket
// protocol"): newline-delimited JSON, requests tagged with an id, answers in order. Going
// through the socket rather than calling the decision point in process means every hook
// decision is audited by the PDP server and decided for the session that socket serves.
// One connection is kept open and re-opened after an error; a request it cannot answer rejects,
// and the hook denies.

export interface PdpClientOptions {
  /** The PDP socket on the host (the supervisor's side). */
  readonly socketPath: string;
  /** Reject a request not answered within this long. Default 1000 ms. */
  readonly timeoutMs?: number;
}

export interface PdpClient {
  readonly decide: DecideFn;
  close(): void;
}

interface Pending {
  resolve(decision: HookDecision): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * @example const pdp = createPdpClient({ socketPath: '/run/paddock/s-1/pdp.sock' });
 *          await startHookServer({ socketPath, decide: pdp.decide });
 */
export function createPdpClient(options: PdpClientOptions): PdpClient {
  let socket: Socket | null = null;
  let buffered = '';
  let nextId = 1;
  const pending = new Map<number, Pending>();

  const failAll = (error: Error) => {
    for (const [id, entry] of pending) {
      clearTimeout(entry.timer);
      entry.reject(error);
      pending.delete(id);
    }
  };
  const open = (): Socket => {
    if (socket && !socket.destroyed) return socket;
    buffered = '';
    const s = connect(options.socketPath);
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      buffered += chunk;
      for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        let answer: Record<string, unknown>;
        try {
          answer = JSON.parse(line) as Record<string, unknown>;
        } catch {
          s.destroy(new Error('the PDP answered a line that is not JSON'));
          return;
        }
        const entry = typeof answer.id === 'number' ? pending.get(answer.id) : undefined;
        if (!entry) continue;
        pending.delete(answer.id as number);
        clearTimeout(entry.timer);
        const { id: _id, ...decision } = answer;
        entry.resolve(decision as unknown as HookDecision);
      }
    });
    s.on('error', (error) => failAll(new Error(`PDP socket ${options.socketPath}: ${error.message}`)));
    s.on('close', () => {
      if (socket === s) socket = null;
      failAll(new Error('the PDP socket closed'));
    });
    socket = s;
    return s;
  };

  const decide: DecideFn = (request: DecisionRequest) =>
    new Promise<HookDecision>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the PDP did not answer within ${options.timeoutMs ?? 1000} ms`));
      }, options.timeoutMs ?? 1000);
      pending.set(id, { resolve, reject, timer });
      open().write(`${JSON.stringify({ id, ...request })}\n`);
    });

  return {
    decide,
    close() {
      failAll(new Error('the PDP client was closed'));
      socket?.destroy();
      socket = null;
    },
  };
}
