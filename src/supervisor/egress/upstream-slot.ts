import type { Admitted, GatewayCore } from './admission.ts';
import type { UpstreamConnection } from './http-exchange.ts';
import { SocketReader } from './socket-reader.ts';
import { connectUpstream, connectUpstreamTls } from './upstream.ts';

// The one upstream connection an HTTP session keeps: reused for the next request to the same
// destination (host, port, scheme and checked addresses), replaced when the destination
// changes, never shared between client connections.

export class UpstreamSlot {
  private connection: UpstreamConnection | undefined;
  /** The admission the connection was last used for: the same one needs no key compared. */
  private lastAdmitted: Admitted | undefined;

  /** The open connection for `admitted` when there is one to reuse. */
  reusable(admitted: Admitted, scheme: 'http' | 'https'): UpstreamConnection | undefined {
    const connection = this.connection;
    if (!connection || connection.socket.destroyed) return undefined;
    if (admitted === this.lastAdmitted && connection.key.startsWith(`${scheme}|`)) return connection;
    if (connection.key !== slotKey(admitted, scheme)) return undefined;
    this.lastAdmitted = admitted;
    return connection;
  }

  /** The connection for `admitted`, opened (to its checked addresses) when there is none to reuse. */
  async for(core: GatewayCore, admitted: Admitted, scheme: 'http' | 'https'): Promise<UpstreamConnection> {
    const reused = this.reusable(admitted, scheme);
    if (reused) return reused;
    const key = slotKey(admitted, scheme);
    this.close();
    const { limits, upstreamTls } = core;
    const socket =
      scheme === 'https'
        ? await connectUpstreamTls(admitted, upstreamTls, limits.connectTimeoutMs)
        : await connectUpstream(admitted, limits.connectTimeoutMs);
    socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    this.connection = { key, socket, reader: new SocketReader(socket) };
    this.lastAdmitted = admitted;
    return this.connection;
  }

  /** Hands the connection over (a WebSocket splice); the slot is then empty. */
  take(): UpstreamConnection | undefined {
    const connection = this.connection;
    this.connection = undefined;
    this.lastAdmitted = undefined;
    return connection;
  }

  close(): void {
    this.connection?.socket.destroy();
    this.connection = undefined;
    this.lastAdmitted = undefined;
  }
}

/** Destination key: reused only for the same scheme, host, port and checked addresses. */
function slotKey(admitted: Admitted, scheme: 'http' | 'https'): string {
  return `${scheme}|${admitted.host}|${admitted.port}|${admitted.addresses.join(',')}`;
}
