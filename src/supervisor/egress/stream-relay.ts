import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { PaddockError } from '../../core/errors.ts';
import type { RelayEndReason, RelayOutcome, TunnelRelay } from './tunnel-relay.ts';

// The L4 data path in Node streams, for hosts without splice(2) or a C compiler (a Windows
// guest): the same contract as the native relay (native/paddock-relay.c), chunk by chunk in
// the supervisor. Each direction reads from one socket and writes to the other; a write the
// other side cannot take yet pauses the reading (so a slow reader holds the gateway to about
// two high-water marks per direction, never an unbounded queue), its drain resumes it.

/** One direction of a tunnel, as paddock-relay.c's `struct flow`. */
interface Flow {
  /** Bytes written out to the receiving side (accepted by its kernel), pre-buffered bytes excepted. */
  bytes: number;
  /** Bytes still to come that the sending socket had buffered at the handoff: sent first, not counted. */
  uncounted: number;
  /** The receiving side's writing is shut down (FIN passed on) and everything before it flushed. */
  shut: boolean;
}

/**
 * @example
 * const relay = new StreamRelay();
 * const outcome = await relay.relay(client, upstream, 300_000); // resolves when the tunnel ends
 */
export class StreamRelay implements TunnelRelay {
  readonly #tunnels = new Set<(reason: RelayEndReason) => void>();
  #closing = false;

  get open(): number {
    return this.#tunnels.size;
  }

  async relay(client: Socket, upstream: Socket, idleTimeoutMs: number): Promise<RelayOutcome> {
    if (this.#closing) throw new PaddockError('PDK_EGRESS_RELAY', 'the gateway is closing');
    if (client.destroyed || upstream.destroyed) {
      client.destroy();
      upstream.destroy();
      return { up: 0, down: 0, reason: 'closed_before_relay' };
    }
    return new Promise((resolve) => {
      const end = carry(client, upstream, idleTimeoutMs, (outcome) => {
        this.#tunnels.delete(end);
        resolve(outcome);
      });
      this.#tunnels.add(end);
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    for (const end of [...this.#tunnels]) end('closed_by_gateway');
  }
}

/** Starts moving bytes both ways; returns the function that ends the tunnel. */
function carry(
  client: Socket,
  upstream: Socket,
  idleTimeoutMs: number,
  onEnd: (outcome: RelayOutcome) => void,
): (reason: RelayEndReason) => void {
  const up: Flow = { bytes: 0, uncounted: client.readableLength, shut: false };
  const down: Flow = { bytes: 0, uncounted: upstream.readableLength, shut: false };
  let ended = false;
  let lastActive = performance.now();
  let idleTimer: NodeJS.Timeout | undefined;
  const touch = () => {
    lastActive = performance.now();
  };

  const end = (reason: RelayEndReason) => {
    if (ended) return;
    ended = true;
    clearTimeout(idleTimer);
    client.destroy();
    upstream.destroy();
    onEnd({ up: up.bytes, down: down.bytes, reason });
  };

  // Checked lazily: one timer per tunnel, re-armed for the remainder when traffic moved.
  // Activity is seen per chunk (a read, a completed write of up to 64 KiB), where the native
  // relay sees each partial splice: only a reader slower than 64 KiB per idle timeout differs.
  const watchIdle = (delayMs: number) => {
    idleTimer = setTimeout(() => {
      const quietMs = performance.now() - lastActive;
      if (quietMs >= idleTimeoutMs) end('idle');
      else watchIdle(idleTimeoutMs - quietMs);
    }, delayMs);
    idleTimer.unref();
  };

  const pass = (from: Socket, to: Socket, flow: Flow, other: Flow) => {
    from.on('data', (chunk: Buffer) => {
      touch();
      const counted = Math.max(0, chunk.length - flow.uncounted);
      flow.uncounted -= chunk.length - counted;
      const more = to.write(chunk, (error) => {
        if (error) return;
        flow.bytes += counted;
        touch();
      });
      if (!more) from.pause();
    });
    to.on('drain', () => {
      if (!ended) from.resume();
    });
    // Half-close passes through: the receiver sees end of stream after every byte before it.
    const passFin = () => {
      touch();
      to.end((error?: Error | null) => {
        if (error || ended) return;
        flow.shut = true;
        if (other.shut) end('eof');
      });
    };
    if (from.readableEnded) passFin();
    else from.once('end', passFin);
  };

  for (const socket of [client, upstream]) {
    // A FIN from one side ends one direction only; Node would otherwise end the other too.
    socket.allowHalfOpen = true;
    // Idleness is the tunnel's (either direction), not one socket's: see watchIdle.
    socket.setTimeout(0);
    socket.on('error', (error: NodeJS.ErrnoException) => end(reasonOf(error)));
    // Closed while a direction through it is still open, without an error: someone in the
    // gateway destroyed it (closing). A socket done both ways closes on its own; the other
    // direction's end decides.
    socket.on('close', () => {
      if (!socket.readableEnded || !socket.writableFinished) end('closed_by_gateway');
    });
  }
  pass(client, upstream, up, down);
  pass(upstream, client, down, up);
  if (idleTimeoutMs > 0) watchIdle(idleTimeoutMs);
  client.resume();
  upstream.resume();
  return end;
}

/** The native relay's reason for a socket error. */
function reasonOf(error: NodeJS.ErrnoException): RelayEndReason {
  if (error.code === 'ECONNRESET') return 'reset';
  if (error.syscall === 'read') return 'read_error';
  if (error.syscall === 'shutdown') return 'shutdown_error';
  if (error.syscall === 'write' || error.code === 'EPIPE') return 'write_error';
  return 'socket_error';
}
