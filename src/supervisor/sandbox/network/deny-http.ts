import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { absoluteTarget, type HostPort, splitHostPort } from './authority.ts';
import { denialBody, type EgressVia } from './egress-listener.ts';
import { denialHeaders, type Refuser, rawDenialResponse } from './refusal.ts';

// The two HTTP-speaking listeners of the deny listener: the explicit proxy (absolute-form
// requests and CONNECT) and the transparent port-80 listener (origin-form with a Host header).
// Node's HTTP parser does the framing; the sockets are handed to it after the source check.

/** Largest request head accepted; larger ones get 431 from Node's parser. */
const MAX_HEADER_BYTES = 16 * 1024;

type Mode = 'proxy' | 'transparent';

function targetOf(request: IncomingMessage, mode: Mode): { target: HostPort; via: EgressVia } {
  const url = request.url ?? '';
  const absolute = absoluteTarget(url);
  if (absolute) return { target: absolute, via: mode === 'proxy' ? 'absolute' : 'transparent-http' };
  const host = splitHostPort(request.headers.host ?? '', 80);
  // On the transparent listener the sandbox dialled port 80, whatever the Host header says.
  if (mode === 'transparent') return { target: { host: host.host, port: 80 }, via: 'transparent-http' };
  return { target: host, via: 'absolute' };
}

/**
 * Returns a function that takes an accepted socket and answers every request on it with a
 * 403 JSON refusal. `sandboxId` and the socket's remote end identify the requester.
 */
export function createDenyHttpHandler(
  sandboxId: string,
  mode: Mode,
  refuse: Refuser,
): (socket: Duplex) => void {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, keepAliveTimeout: 5_000 });
  const source = (request: IncomingMessage) => ({
    sourceAddress: request.socket.remoteAddress ?? '',
    sourcePort: request.socket.remotePort ?? 0,
  });

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const { target, via } = targetOf(request, mode);
    void refuse({ sandboxId, host: target.host, port: target.port, via, ...source(request) }).then(
      (denial) => {
        const body = JSON.stringify(denialBody(denial));
        response.writeHead(403, denialHeaders(denial, body));
        response.end(body);
      },
    );
  });

  // CONNECT and Upgrade take the socket away from the HTTP parser: answer in raw bytes and end.
  const refuseRaw = (via: EgressVia, target: HostPort) => (request: IncomingMessage, socket: Duplex) => {
    void refuse({ sandboxId, host: target.host, port: target.port, via, ...source(request) }).then(
      (denial) => {
        socket.end(rawDenialResponse(denial));
      },
    );
  };
  server.on('connect', (request: IncomingMessage, socket: Duplex) => {
    // CONNECT's target is authority-form and must carry a port; a missing one is port 0 (refused).
    refuseRaw(mode === 'proxy' ? 'connect' : 'transparent-http', splitHostPort(request.url ?? '', 0))(
      request,
      socket,
    );
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
    const { target, via } = targetOf(request, mode);
    refuseRaw(via, target)(request, socket);
  });

  // Malformed or oversized heads never reach the decider; they are not destinations.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    const status =
      error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });

  return (socket) => {
    server.emit('connection', socket);
  };
}
