import type { Admitted, GatewayCore } from './admission.ts';
import type { UpstreamConnection } from './http-exchange.ts';
import { SocketReader } from './socket-reader.ts';
import { connectUpstream, connectUpstreamTls } from './upstream.ts';

// The one upstream connection an HTTP session keeps: reused for the next request to the same
// destination (host, port, scheme and checked addresses), replaced when the destination
// changes, never shared between client connections.

export class UpstreamSlot {
  private connection: UpstreamConnection | undefined;

  /** The connection for `admitted`, opened (to its checked addresses) when there is none to reuse. */
  async for(core: GatewayCore, admitted: Admitted, scheme: 'http' | 'https'): Promise<UpstreamConnection> {
    const key = `${scheme}|${admitted.host}|${admitted.port}|${admitted.addresses.join(',')}`;
    if (this.connection && !this.connection.socket.destroyed && this.connection.key === key)
      return this.connection;
    this.close();
    const { limits, upstreamTls } = core;
    const socket =
      scheme === 'https'
        ? await connectUpstreamTls(admitted, upstreamTls, limits.connectTimeoutMs)
        : await connectUpstream(admitted, limits.connectTimeoutMs);
    socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    this.connection = { key, socket, reader: new SocketReader(socket) };
    return this.connection;
  }

  /** Hands the connection over (a WebSocket splice); the slot is then empty. */
  take(): UpstreamConnection | undefined {
    const connection = this.connection;
    this.connection = undefined;
    return connection;
  }

  close(): void {
    this.connection?.socket.destroy();
    this.connection = undefined;
  }
}
