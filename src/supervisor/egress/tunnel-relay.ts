import type { Socket } from 'node:net';
import { PaddockError } from '../../core/errors.ts';
import { NativeRelay } from './native-relay.ts';
import { StreamRelay } from './stream-relay.ts';

// The L4 data path's contract. Once the gateway has admitted a tunnel, checked its first
// bytes and connected upstream, it has no more decisions to make: a relay moves the bytes
// both ways until the tunnel ends and reports how it ended. Two relays keep the same
// contract: NativeRelay (splice(2) in a helper process; Linux, needs a C compiler) and
// StreamRelay (Node streams; everywhere, e.g. a Windows guest). The gateway picks one here.

/**
 * Why a relayed tunnel ended.
 * - `eof`: both directions finished (each side's FIN passed on to the other).
 * - `idle`: no byte moved either way for the idle timeout.
 * - `reset`: a side reset the connection. `socket_error`: another error the socket reported.
 * - `read_error`, `write_error`, `shutdown_error`: that operation failed on a side.
 * - `closed_by_gateway`: the gateway ended it (closing, or a socket it destroyed).
 * - `closed_before_relay`: a socket had closed before the relay took it; nothing moved.
 * - `relay_stopped`: the native relay's process died, taking the tunnel with it.
 */
export type RelayEndReason =
  | 'eof'
  | 'idle'
  | 'reset'
  | 'socket_error'
  | 'read_error'
  | 'write_error'
  | 'shutdown_error'
  | 'closed_by_gateway'
  | 'closed_before_relay'
  | 'relay_stopped';

/**
 * How a relayed tunnel ended. The counts are bytes the relay wrote out to the other side; bytes
 * either socket had already buffered when relay() was called go first but are not counted
 * (the gateway's own socket counters, as they stood at that moment, hold them).
 */
export interface RelayOutcome {
  /** Sandbox to upstream, bytes. */
  readonly up: number;
  /** Upstream to sandbox, bytes. */
  readonly down: number;
  readonly reason: RelayEndReason;
}

/** The L4 data path of one gateway. */
export interface TunnelRelay {
  /** Tunnels the relay carries now. */
  readonly open: number;
  /**
   * Takes over both connected sockets (the gateway neither reads nor writes them after this)
   * and resolves when the tunnel ended: both directions done, an error or reset on either
   * side, or no byte either way for `idleTimeoutMs` (0: no idle limit). Half-close passes
   * through: one side's FIN shuts the other side's writing, the other direction carries on.
   * Rejects with PDK_EGRESS_RELAY once close() was called.
   */
  relay(client: Socket, upstream: Socket, idleTimeoutMs: number): Promise<RelayOutcome>;
  /** Ends every open tunnel (their outcomes resolve, `closed_by_gateway`) and refuses new ones. */
  close(): Promise<void>;
}

/** Which relay a gateway uses: `native` (splice(2), Linux only) or `stream` (Node streams, any OS). */
export type TunnelRelayKind = 'native' | 'stream';

/** `native` on Linux, where splice(2) exists; `stream` everywhere else. */
export function defaultTunnelRelay(platform: NodeJS.Platform = process.platform): TunnelRelayKind {
  return platform === 'linux' ? 'native' : 'stream';
}

/**
 * The relay of `kind`. A native relay that cannot be built throws PDK_EGRESS_RELAY_BUILD: it
 * never falls back to the stream relay, so an operator who expects splice(2) learns it is missing.
 */
export function createTunnelRelay(
  kind: TunnelRelayKind,
  onStopped: (error: PaddockError) => void,
): TunnelRelay {
  switch (kind) {
    case 'native':
      return new NativeRelay({ onStopped });
    case 'stream':
      return new StreamRelay();
    default:
      throw new PaddockError(
        'PDK_CONFIG_INVALID',
        `egress relay "${String(kind)}": use "native" or "stream"`,
      );
  }
}
