import { admit, type ClientConnection, type GatewayCore } from './admission.ts';
import { SocketReader } from './socket-reader.ts';
import { runTunnel } from './tunnel.ts';

// SOCKS5 (RFC 1928) for clients that only speak it: no authentication, CONNECT only.
// Domain names are resolved here, at the gateway (socks5h semantics), through the same
// admission as every other listener; an address given by the client (ATYP 1 or 4) is an
// IP literal, allowed only where a service lists it.

const VERSION = 0x05;
const NO_AUTH = 0x00;
const NO_ACCEPTABLE = 0xff;
const CMD_CONNECT = 0x01;
const REPLY = {
  succeeded: 0x00,
  failure: 0x01,
  notAllowed: 0x02,
  hostUnreachable: 0x04,
  commandNotSupported: 0x07,
  addressNotSupported: 0x08,
} as const;

/** Serves one SOCKS5 connection. */
export async function serveSocks5(core: GatewayCore, connection: ClientConnection): Promise<void> {
  const socket = connection.socket;
  const reader = new SocketReader(socket);
  const timer = setTimeout(() => socket.destroy(), core.limits.headersTimeoutMs);
  const need = async (count: number): Promise<Buffer> => {
    while (reader.length < count) await reader.more();
    return reader.consume(count);
  };
  const reply = (code: number) => Buffer.from([VERSION, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
  let host: string;
  let port: number;
  try {
    const [version, methodCount] = await need(2);
    const methods = await need(methodCount!);
    if (version !== VERSION || !methods.includes(NO_AUTH)) {
      socket.end(Buffer.from([VERSION, NO_ACCEPTABLE]));
      return;
    }
    socket.write(Buffer.from([VERSION, NO_AUTH]));
    const [requestVersion, command, reserved, addressType] = await need(4);
    if (requestVersion !== VERSION || reserved !== 0) return void socket.end(reply(REPLY.failure));
    if (addressType === 0x01) host = [...(await need(4))].join('.');
    else if (addressType === 0x04)
      host = `[${(await need(16)).toString('hex').replace(/(.{4})(?!$)/g, '$1:')}]`;
    else if (addressType === 0x03) host = (await need((await need(1))[0]!)).toString('latin1');
    else return void socket.end(reply(REPLY.addressNotSupported));
    port = (await need(2)).readUInt16BE(0);
    if (command !== CMD_CONNECT) return void socket.end(reply(REPLY.commandNotSupported));
  } catch {
    socket.destroy();
    return;
  } finally {
    clearTimeout(timer);
  }
  const admitted = await admit(core, connection, host, port);
  if (!admitted.allow) {
    const reason = admitted.decision.reason;
    return void socket.end(reply(reason === 'resolve_failed' ? REPLY.hostUnreachable : REPLY.notAllowed));
  }
  const rest = reader.detach();
  socket.write(reply(REPLY.succeeded));
  if (rest.length > 0) socket.unshift(rest);
  await runTunnel(core, connection, admitted);
}
