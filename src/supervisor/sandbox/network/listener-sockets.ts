import { createServer, type Server, type Socket } from 'node:net';
import { PaddockError } from '../../../core/errors.ts';
import type { ProxyPorts } from './address-plan.ts';
import type { SandboxNetwork } from './sandbox-network.ts';

// Binds the four egress sockets of one sandbox network and enforces what every EgressListener
// owes the network, whatever protocol it then speaks: bound to the host address only, only the
// sandbox's own address may connect (the host address is local to the supervisor's namespace,
// so any host process could otherwise reach it and borrow the sandbox's egress), a bounded
// number of connections, and an idle timeout so a silent client cannot pin a socket forever.

export type ListenerName = keyof ProxyPorts;

export interface EgressSocketOptions {
  /** Open connections per listener; further ones are closed as soon as they are accepted. Default 256. */
  readonly maxConnections?: number;
  /** A connection idle this long is destroyed, milliseconds. Default 30000. */
  readonly idleTimeoutMs?: number;
  /** Called for a connection from any address but the sandbox's (it is destroyed). */
  readonly onForeignConnection?: (listener: ListenerName, remoteAddress: string) => void;
  /**
   * Keep a connection writable after the client half-closes it. Default false (the deny
   * listener answers and closes). The egress gateway sets it: a tunnelled client may shut down
   * its write side and still expect the upstream's answer (as its own bind() listeners do).
   */
  readonly allowHalfOpen?: boolean;
}

export interface EgressSockets {
  /** Stops all four listeners and destroys their open connections. Idempotent. */
  close(): Promise<void>;
}

const LISTENERS: readonly ListenerName[] = ['httpProxy', 'transparentHttp', 'transparentHttps', 'socks'];

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen({ host, port, backlog: 128 }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/**
 * Binds `handlers[name]` on `network.hostAddress:network.ports[name]` for each of the four
 * listeners. All or nothing: if one port cannot be bound the others are closed again and the
 * promise rejects with PDK_NETWORK_LISTEN.
 */
export async function bindEgressSockets(
  network: SandboxNetwork,
  handlers: Readonly<Record<ListenerName, (socket: Socket) => void>>,
  options: EgressSocketOptions = {},
): Promise<EgressSockets> {
  const open = new Set<Socket>();
  const servers: Server[] = [];
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  for (const name of LISTENERS) {
    const server = createServer({ noDelay: true, allowHalfOpen: options.allowHalfOpen ?? false });
    server.maxConnections = options.maxConnections ?? 256;
    server.on('connection', (socket) => {
      if (socket.remoteAddress !== network.sandboxAddress) {
        socket.destroy();
        options.onForeignConnection?.(name, socket.remoteAddress ?? '');
        return;
      }
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.setTimeout(idleTimeoutMs, () => socket.destroy());
      try {
        handlers[name](socket);
      } catch {
        // A handler that throws must cost its connection, never the supervisor.
        socket.destroy();
      }
    });
    servers.push(server);
    try {
      await listen(server, network.hostAddress, network.ports[name]);
    } catch (error) {
      await Promise.all(servers.map(closeServer));
      throw new PaddockError(
        'PDK_NETWORK_LISTEN',
        `cannot listen on ${network.hostAddress}:${network.ports[name]} (${name}) for ${network.id}: ${(error as Error).message}`,
        { cause: error, details: { sandboxId: network.id, listener: name, port: network.ports[name] } },
      );
    }
  }
  let closing: Promise<void> | undefined;
  return {
    close: () => {
      closing ??= (async () => {
        const closed = Promise.all(servers.map(closeServer));
        for (const socket of open) socket.destroy();
        await closed;
      })();
      return closing;
    },
  };
}
