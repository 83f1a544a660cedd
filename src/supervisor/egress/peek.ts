import type { Socket } from 'node:net';

// Looks at the first bytes of a connection without consuming them: the bytes are read,
// judged, and put back with unshift(), so whatever handles the socket next (a pipe, a
// TLSSocket wrapping it) sees the stream from its first byte.

export type PeekOutcome<T> =
  | { readonly kind: 'done'; readonly value: T; readonly bytes: Buffer }
  | { readonly kind: 'timeout'; readonly bytes: Buffer }
  | { readonly kind: 'closed'; readonly bytes: Buffer };

/**
 * Reads from `socket` until `judge` returns a value (not undefined), the peer closes, or
 * `timeoutMs` passes. `judge` sees all bytes so far and must bound what it waits for. The
 * bytes are unshifted back into the socket, which is left paused.
 */
export function peek<T>(
  socket: Socket,
  judge: (bytes: Buffer) => T | undefined,
  timeoutMs: number,
): Promise<PeekOutcome<T>> {
  return new Promise((resolve) => {
    let bytes: Buffer = Buffer.alloc(0);
    const finish = (outcome: PeekOutcome<T>) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onEnd);
      socket.pause();
      if (bytes.length > 0 && !socket.destroyed) socket.unshift(bytes);
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk]);
      const value = judge(bytes);
      if (value !== undefined) finish({ kind: 'done', value, bytes });
    };
    const onEnd = () => finish({ kind: 'closed', bytes });
    const timer = setTimeout(() => finish({ kind: 'timeout', bytes }), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onEnd);
    socket.resume();
  });
}
