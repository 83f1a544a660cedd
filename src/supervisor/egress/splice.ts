import type { OnReadOpts } from 'node:net';
import type { Duplex } from 'node:stream';

// The L4 data path: bytes both ways with no per-chunk work of ours: stream.pipe from the
// client, and large direct reads from upstream (the download direction carries the bulk).
// Half-close passes through (a FIN one way ends that direction only); an error or a quiet
// spell longer than the idle timeout on either side tears both down.

export interface SpliceOptions {
  /** Close both sides after this long without traffic either way, milliseconds. */
  readonly idleTimeoutMs: number;
  /** Called once, when both sides are closed. */
  readonly onClose?: () => void;
}

/** Pipes `client` and `upstream` into each other. Whatever either has buffered (unshifted) flows first. */
export function splice(client: Duplex & Timed, upstream: Duplex & Timed, options: SpliceOptions): void {
  upstream.pipe(client);
  spliceHalf(client, upstream, options);
  upstream.resume();
}

type Timed = { setTimeout?: (ms: number) => unknown };

/** The client-to-upstream pipe, teardown and idle timeouts; the other direction is the caller's. */
function spliceHalf(client: Duplex & Timed, upstream: Duplex & Timed, options: SpliceOptions): void {
  let closed = 0;
  const teardown = () => {
    client.destroy();
    upstream.destroy();
  };
  const onClosed = () => {
    closed += 1;
    if (closed === 2) options.onClose?.();
    else teardown();
  };
  // Node resets a socket's timeout on its reads and its writes, so in a one-way transfer
  // both sockets stay active; a side that times out has seen nothing either way.
  client.setTimeout?.(options.idleTimeoutMs);
  upstream.setTimeout?.(options.idleTimeoutMs);
  client.on('timeout', teardown);
  upstream.on('timeout', teardown);
  client.on('error', teardown);
  upstream.on('error', teardown);
  client.once('close', onClosed);
  upstream.once('close', onClosed);
  upstream.once('end', () => client.end());
  client.pipe(upstream);
  client.resume();
}

/** Read size of the upstream side of an L4 splice: larger reads, fewer callbacks per megabyte. */
const DIRECT_READ_BYTES = 256 * 1024;
/**
 * Bytes queued towards the client before upstream reads pause. Well above the socket's own
 * high-water mark, so a large read does not pause reading every time; bounded, so a slow
 * client costs at most this much memory per tunnel.
 */
const MAX_QUEUED_BYTES = 1024 * 1024;

/**
 * The upstream-to-client direction of an L4 splice without the stream machinery: pass
 * `onread` to the upstream's connect, then `attach` the two sockets. Each read lands in one
 * reused buffer, is copied out (the buffer is reused at once) and written to the client.
 * Bytes that arrive before attach() (a server that speaks first) are kept for the client.
 */
export function directUpstreamReads(): {
  onread: OnReadOpts;
  attach(client: Duplex, upstream: Duplex, options: SpliceOptions): void;
} {
  let client: Duplex | undefined;
  let upstream: Duplex | undefined;
  const early: Buffer[] = [];
  return {
    onread: {
      buffer: Buffer.allocUnsafe(DIRECT_READ_BYTES),
      callback(bytes: number, buffer: Uint8Array): boolean {
        const copy = Buffer.allocUnsafe(bytes);
        copy.set(buffer.subarray(0, bytes));
        if (!client) {
          early.push(copy);
          return true;
        }
        client.write(copy);
        if (client.writableLength <= MAX_QUEUED_BYTES) return true;
        client.once('drain', () => upstream?.resume());
        return false;
      },
    },
    attach(clientSocket, upstreamSocket, options) {
      client = clientSocket;
      upstream = upstreamSocket;
      for (const chunk of early.splice(0)) clientSocket.write(chunk);
      spliceHalf(clientSocket, upstreamSocket, options);
    },
  };
}
