import { chmod, chown, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { PaddockError } from '../../core/index.ts';
import type { SessionSource } from './gateway.ts';
import { StreamTransport } from './stream-transport.ts';

// The shim's endpoint: a unix socket the supervisor binds outside the sandbox and mounts into
// it. Each connection is one agent session speaking MCP's stdio framing (a JSON-RPC message per
// line), exactly what `paddock mcp-shim` relays from the agent's stdin and stdout. The socket is
// root's alone (0600) unless the supervisor hands it to the sandbox's uid: nothing else on the
// host can talk to the gateway as that agent.

export interface SocketEndpointOptions {
  /** Owner to give the socket: the sandbox's dedicated host uid. Default: the supervisor (root). */
  readonly uid?: number;
  /** Group to give the socket. Default: the owner's group id as given by `uid`, else unchanged. */
  readonly gid?: number;
  /** Permission bits of the socket. Default 0o600. */
  readonly mode?: number;
}

export interface SocketEndpoint {
  readonly path: string;
  close(): Promise<void>;
}

/** Binds `path` (a stale socket there is replaced) and serves a session per connection. */
export async function serveSocket(
  source: SessionSource,
  path: string,
  options: SocketEndpointOptions = {},
): Promise<SocketEndpoint> {
  await rm(path, { force: true });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    const session = source.open();
    if (!session) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      sockets.delete(socket);
      void session.close();
    });
    const transport = new StreamTransport(socket, socket, () => socket.destroy());
    session.server.connect(transport).catch((error: Error) => {
      source.log.sessionFailed('socket', error.message);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new PaddockError('PDK_MCP_SHIM', `cannot listen on ${path}: ${error.message}`, { cause: error }),
      ),
    );
    server.listen(path, () => resolve());
  });
  await chmod(path, options.mode ?? 0o600);
  if (options.uid !== undefined) await chown(path, options.uid, options.gid ?? options.uid);
  source.log.listening('socket', path);
  return {
    path,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(path, { force: true });
    },
  };
}
