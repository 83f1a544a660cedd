import type { Socket } from 'node:net';
import type { Refuser } from './refusal.ts';
import { TLS_ACCESS_DENIED_ALERT } from './refusal.ts';
import {
  COMMAND_CONNECT,
  MAX_SOCKS_MESSAGE,
  METHOD_NO_AUTH,
  METHOD_NONE_ACCEPTABLE,
  parseGreeting,
  parseRequest,
  SOCKS_REPLY,
  SOCKS_VERSION,
  socksReply,
} from './socks5-handshake.ts';
import { MAX_HELLO_BYTES, parseClientHello } from './tls-client-hello.ts';

// The two byte-stream listeners of the deny listener: transparent TLS (read the ClientHello's
// server name, refuse with a TLS alert) and SOCKS5 (answer the greeting, read the request,
// refuse with "connection not allowed by ruleset"). Each buffers at most what its protocol
// needs before the destination is known, then closes the connection.

/** Collects a socket's bytes until `step` returns true; past `limit` bytes the socket is destroyed. */
function readUntil(socket: Socket, limit: number, step: (buffered: Buffer) => boolean): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (step(buffered)) return socket.off('data', onData);
    if (buffered.length > limit) socket.destroy();
  };
  socket.on('data', onData);
}

const source = (socket: Socket) => ({
  sourceAddress: socket.remoteAddress ?? '',
  sourcePort: socket.remotePort ?? 0,
});

/** Transparent TLS: the sandbox dialled port 443 somewhere; the server name says where. */
export function createDenyTlsHandler(sandboxId: string, refuse: Refuser): (socket: Socket) => void {
  return (socket) => {
    readUntil(socket, MAX_HELLO_BYTES + 1024, (buffered) => {
      const hello = parseClientHello(buffered, MAX_HELLO_BYTES);
      if (hello.kind === 'incomplete') return false;
      const request = { sandboxId, host: '', port: 443, via: 'transparent-tls' as const, ...source(socket) };
      const refused =
        hello.kind !== 'hello'
          ? refuse(request, {
              reason: 'protocol_not_allowed',
              detail: `port 443 without TLS: ${hello.kind === 'error' ? hello.detail : 'not a TLS handshake'}`,
            })
          : hello.serverName === undefined
            ? refuse(request, { reason: 'sni_missing', detail: 'the ClientHello names no server' })
            : refuse({ ...request, host: hello.serverName });
      void refused.then(() => socket.end(TLS_ACCESS_DENIED_ALERT));
      return true;
    });
  };
}

/** SOCKS5: no authentication, then CONNECT to a name or address; every request is refused. */
export function createDenySocksHandler(sandboxId: string, refuse: Refuser): (socket: Socket) => void {
  return (socket) => {
    let greetingLength = 0; // bytes of the greeting, once it has been answered
    const refuseProtocol = (detail: string, reply: Buffer) => {
      const request = { sandboxId, host: '', port: 0, via: 'socks' as const, ...source(socket) };
      void refuse(request, { reason: 'protocol_not_allowed', detail }).then(() => socket.end(reply));
      return true;
    };
    readUntil(socket, MAX_SOCKS_MESSAGE * 2, (buffered) => {
      if (greetingLength === 0) {
        if (buffered[0] === 4) {
          // SOCKS4/4a: "request rejected or failed", in SOCKS4's own reply format.
          return refuseProtocol(
            'SOCKS4 is not spoken; use socks5h://',
            Buffer.from([0, 0x5b, 0, 0, 0, 0, 0, 0]),
          );
        }
        const greeting = parseGreeting(buffered);
        if (greeting.kind === 'incomplete') return false;
        if (greeting.kind === 'invalid') {
          return refuseProtocol(greeting.why, Buffer.from([SOCKS_VERSION, METHOD_NONE_ACCEPTABLE]));
        }
        if (!greeting.methods.includes(METHOD_NO_AUTH)) {
          return refuseProtocol(
            'the client offers no method the listener accepts',
            Buffer.from([SOCKS_VERSION, 0xff]),
          );
        }
        greetingLength = greeting.length;
        socket.write(Buffer.from([SOCKS_VERSION, METHOD_NO_AUTH]));
      }
      const request = parseRequest(buffered.subarray(greetingLength));
      if (request.kind === 'incomplete') return false;
      if (request.kind === 'invalid')
        return refuseProtocol(request.why, socksReply(SOCKS_REPLY.addressTypeNotSupported));
      const asked = {
        sandboxId,
        host: request.host,
        port: request.port,
        via: 'socks' as const,
        ...source(socket),
      };
      const connect = request.command === COMMAND_CONNECT;
      const refused = connect
        ? refuse(asked)
        : refuse(asked, {
            reason: 'protocol_not_allowed',
            detail: `SOCKS command ${request.command} (only CONNECT)`,
          });
      const code = connect ? SOCKS_REPLY.notAllowedByRuleset : SOCKS_REPLY.commandNotSupported;
      void refused.then(() => socket.end(socksReply(code)));
      return true;
    });
  };
}
