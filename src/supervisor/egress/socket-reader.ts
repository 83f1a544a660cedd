import type { Duplex, Writable } from 'node:stream';

/** Where forwarded bytes go: a socket, or a guard in front of one. */
export interface Sink {
  /** Writes; false means wait for drain() before writing more. */
  write(chunk: Buffer): boolean;
  drain(): Promise<void>;
}

/** A sink writing to a stream. */
export function streamSink(stream: Writable): Sink {
  return { write: (chunk) => stream.write(chunk), drain: () => drained(stream) };
}

// Pull-style reading from a socket for the inspected (L7) path: the session reads a head,
// decides, then forwards exactly the body's bytes, and what follows stays buffered for the
// next request. Reading pauses the socket when more than HIGH_WATER bytes wait unread, so a
// client cannot make the gateway buffer without bound.

const HIGH_WATER = 256 * 1024;
/** What peek() returns with nothing buffered: zero bytes, so nothing to share by mistake. */
const EMPTY = Buffer.alloc(0);

export class ReaderClosedError extends Error {
  constructor(message = 'connection closed') {
    super(message);
    this.name = 'ReaderClosedError';
  }
}

export class SocketReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: (() => void) | undefined;
  private ended = false;
  private failure: Error | undefined;

  private readonly listeners: Record<'data' | 'end' | 'close' | 'error', (arg?: never) => void>;

  private readonly socket: Duplex;

  constructor(socket: Duplex) {
    this.socket = socket;
    this.listeners = {
      data: (chunk?: Buffer) => {
        this.chunks.push(chunk!);
        this.buffered += chunk!.length;
        if (this.buffered > HIGH_WATER) socket.pause();
        this.wake();
      },
      end: () => {
        this.ended = true;
        this.wake();
      },
      close: () => {
        this.ended = true;
        this.wake();
      },
      error: (error?: Error) => {
        this.failure = error;
        this.wake();
      },
    };
    for (const [event, listener] of Object.entries(this.listeners)) socket.on(event, listener);
  }

  /** Bytes buffered and not yet consumed. */
  get length(): number {
    return this.buffered;
  }

  /** Whether the peer has finished sending and nothing is buffered. */
  get exhausted(): boolean {
    return this.buffered === 0 && (this.ended || this.failure !== undefined);
  }

  /** The buffered bytes as one buffer, without consuming them. */
  peek(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0] ?? EMPTY;
  }

  /** Removes and returns up to `count` bytes from the front. */
  consume(count: number): Buffer {
    const all = this.peek();
    const taken = all.subarray(0, count);
    const rest = all.subarray(taken.length);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    if (this.buffered <= HIGH_WATER && this.socket.isPaused()) this.socket.resume();
    return taken;
  }

  /** Resolves when more bytes arrive; rejects when the peer closed or failed with nothing more to read. */
  async more(): Promise<void> {
    if (this.failure) throw new ReaderClosedError(this.failure.message);
    if (this.ended) throw new ReaderClosedError();
    await new Promise<void>((resolve) => {
      this.waiter = resolve;
      if (this.socket.isPaused()) this.socket.resume();
    });
    // Fields change while awaiting; read them afresh.
    const failure = this.failure as Error | undefined;
    if (this.buffered === 0 && (this.ended || failure)) throw new ReaderClosedError(failure?.message);
  }

  /** Forwards exactly `count` bytes to `destination`, honouring its backpressure. */
  async forward(count: number, destination: Sink): Promise<void> {
    let remaining = count;
    while (remaining > 0) {
      if (this.buffered === 0) await this.more();
      const piece = this.consume(Math.min(remaining, this.buffered));
      remaining -= piece.length;
      if (!destination.write(piece)) await destination.drain();
    }
  }

  /** Forwards everything until the peer closes. */
  async forwardToEnd(destination: Sink): Promise<void> {
    for (;;) {
      if (this.buffered > 0) {
        if (!destination.write(this.consume(this.buffered))) await destination.drain();
        continue;
      }
      try {
        await this.more();
      } catch {
        return;
      }
    }
  }

  /** Everything still buffered is handed back (to unshift before handing the socket on). */
  detach(): Buffer {
    this.socket.pause();
    for (const [event, listener] of Object.entries(this.listeners)) this.socket.off(event, listener);
    const rest = this.peek();
    this.chunks = [];
    this.buffered = 0;
    return rest;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}

/** Resolves on 'drain', or rejects when the stream closes first. */
export function drained(stream: Writable): Promise<void> {
  if (stream.destroyed) return Promise.reject(new ReaderClosedError('destination closed'));
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new ReaderClosedError('destination closed'));
    stream.on('drain', onDrain);
    stream.on('close', onClose);
  });
}
