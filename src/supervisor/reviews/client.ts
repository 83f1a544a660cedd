import { createConnection } from 'node:net';
import { PaddockError } from '../../core/errors.ts';
import type { ReviewStatusName, ReviewView } from '../../policy/index.ts';
import { MAX_RESPONSE_BYTES, type ReviewSocketRequest, responseError } from './protocol.ts';

// `paddock review`'s side of the review socket: one request, one answer. Errors come back as
// the PaddockError the supervisor raised (same code and message); a socket nobody serves is
// PDK_REVIEW_UNAVAILABLE naming the path.

export interface ReviewClientOptions {
  /** The socket path. */
  readonly path: string;
  /** How long to wait for the answer. Default 15000 ms. */
  readonly timeoutMs?: number;
}

function unavailable(path: string, detail: string, cause?: unknown): PaddockError {
  return new PaddockError(
    'PDK_REVIEW_UNAVAILABLE',
    `no review socket answers at ${path} (${detail}): is a paddock run with review gates running?`,
    { cause },
  );
}

/** Sends one request and resolves to the server's result; rejects with the server's error. */
export function callReviewSocket(
  options: ReviewClientOptions,
  request: ReviewSocketRequest,
): Promise<unknown> {
  const { path } = options;
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      fn();
    };
    socket.setTimeout(options.timeoutMs ?? 15_000, () =>
      settle(() => reject(unavailable(path, 'no answer in time'))),
    );
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) settle(() => reject(unavailable(path, 'answer too large')));
      else chunks.push(chunk);
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      settle(() => reject(unavailable(path, error.code ?? error.message, error))),
    );
    socket.once('end', () =>
      settle(() => {
        try {
          const response = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (response?.ok === true) resolve(response.result);
          else
            reject(responseError(response?.error ?? { code: 'PDK_INTERNAL', message: 'malformed answer' }));
        } catch (error) {
          reject(unavailable(path, 'malformed answer', error));
        }
      }),
    );
  });
}

/** What `paddock review` does, typed. */
export interface ReviewSocketClient {
  list(filter?: { readonly status?: ReviewStatusName; readonly limit?: number }): Promise<ReviewView[]>;
  show(id: string): Promise<ReviewView>;
  /** `login`: the local account answering; `as`: the reviewer identity it asserts instead. */
  answer(
    verdict: 'approve' | 'deny',
    id: string,
    answer: { readonly reason: string; readonly login: string; readonly as?: string },
  ): Promise<ReviewView>;
}

/** @example await reviewSocketClient({ path: '/run/paddock/reviews/run-1/review.sock' }).list({ status: 'pending' }) */
export function reviewSocketClient(options: ReviewClientOptions): ReviewSocketClient {
  return {
    list: async (filter = {}) => (await callReviewSocket(options, { op: 'list', ...filter })) as ReviewView[],
    show: async (id) => (await callReviewSocket(options, { op: 'show', id })) as ReviewView,
    answer: async (verdict, id, answer) =>
      (await callReviewSocket(options, { op: verdict, id, ...answer })) as ReviewView,
  };
}
