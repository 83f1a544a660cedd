import {
  type ControlPlaneMessage,
  MAX_PENDING_RELEASE_FETCHES,
  type SupervisorMessage,
} from '../../core/channel/index.ts';
import { PaddockError } from '../../core/index.ts';
import type { ReleaseFetch } from './tuf-client.ts';

// Release files over the workspace channel: the supervisor asks (`release_fetch`), the control
// plane answers with base64 chunks (`release_chunk`) or `release_missing`. The size limit is
// enforced here as the chunks arrive, whatever the control plane does: one byte over the limit
// ends the fetch (endless data), later chunks of it are dropped.

type ReleaseAnswer = Extract<ControlPlaneMessage, { t: 'release_chunk' | 'release_missing' }>;

interface PendingFetch {
  readonly path: string;
  readonly maxBytes: number;
  readonly parts: Buffer[];
  received: number;
  readonly resolve: (bytes: Uint8Array | undefined) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface ChannelFetcherOptions {
  /** Sends a message; false when the channel is not connected. */
  readonly send: (message: Extract<SupervisorMessage, { t: 'release_fetch' }>) => boolean;
  /** The channel whose repository files are fetched. */
  readonly channel: string;
  /** A fetch with no complete answer after this long fails, milliseconds. Default 30000. */
  readonly timeoutMs?: number;
}

/** Fetches release files over the workspace channel. Feed it every release answer with `receive`. */
export class ChannelFetcher {
  readonly #options: ChannelFetcherOptions;
  readonly #pending = new Map<number, PendingFetch>();
  #nextId = 1;

  constructor(options: ChannelFetcherOptions) {
    this.#options = options;
  }

  /** The ReleaseFetch the TUF client uses. */
  readonly fetch: ReleaseFetch = (path, maxBytes) => {
    if (this.#pending.size >= MAX_PENDING_RELEASE_FETCHES)
      return Promise.reject(new PaddockError('PDK_RELEASE_FETCH', `too many release fetches in flight`));
    const requestId = this.#nextId;
    this.#nextId = this.#nextId >= 0xffff_ffff ? 1 : this.#nextId + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new PaddockError('PDK_RELEASE_FETCH', `fetching ${path} timed out`));
      }, this.#options.timeoutMs ?? 30_000);
      timer.unref();
      this.#pending.set(requestId, { path, maxBytes, parts: [], received: 0, resolve, reject, timer });
      const sent = this.#options.send({
        t: 'release_fetch',
        requestId,
        channel: this.#options.channel,
        path,
        maxBytes,
      });
      if (!sent)
        this.#fail(
          requestId,
          new PaddockError('PDK_RELEASE_FETCH', `the channel is not connected (fetching ${path})`),
        );
    });
  };

  /** Handles one answer from the control plane. */
  receive(message: ReleaseAnswer): void {
    const pending = this.#pending.get(message.requestId);
    if (!pending) return;
    if (message.t === 'release_missing') {
      this.#settle(message.requestId);
      pending.resolve(undefined);
      return;
    }
    const chunk = Buffer.from(message.data, 'base64');
    pending.received += chunk.byteLength;
    if (pending.received > pending.maxBytes) {
      this.#fail(
        message.requestId,
        new PaddockError(
          'PDK_RELEASE_TOO_LARGE',
          `${pending.path} exceeds its limit of ${pending.maxBytes} bytes`,
        ),
      );
      return;
    }
    pending.parts.push(chunk);
    if (message.last) {
      this.#settle(message.requestId);
      pending.resolve(new Uint8Array(Buffer.concat(pending.parts)));
    }
  }

  /** The connection dropped: every fetch in flight fails. */
  disconnected(): void {
    for (const id of [...this.#pending.keys()])
      this.#fail(id, new PaddockError('PDK_RELEASE_FETCH', 'the channel closed during a release fetch'));
  }

  #fail(id: number, error: Error): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#settle(id);
    pending.reject(error);
  }

  #settle(id: number): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pending.delete(id);
  }
}
