import type { Duplex } from 'node:stream';

// Bytes both ways between two streams the gateway holds in Node (an upgraded WebSocket after
// its inspected handshake); plain tunnels go to the native relay instead. Half-close passes
// through (a FIN one way ends that direction only); an error or a quiet spell longer than the
// idle timeout on either side tears both down.

export interface SpliceOptions {
  /** Close both sides after this long without traffic either way, milliseconds. */
  readonly idleTimeoutMs: number;
  /** Called once, when both sides are closed. */
  readonly onClose?: () => void;
}

type Timed = { setTimeout?: (ms: number) => unknown };

/** Pipes `client` and `upstream` into each other. Whatever either has buffered (unshifted) flows first. */
export function splice(client: Duplex & Timed, upstream: Duplex & Timed, options: SpliceOptions): void {
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
  upstream.pipe(client);
  client.pipe(upstream);
  client.resume();
  upstream.resume();
}
