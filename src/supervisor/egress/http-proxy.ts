import { hostsAgree, splitAuthority } from '../../policy/index.ts';
import { admit, type ClientConnection, type GatewayCore } from './admission.ts';
import { headerValue, type RequestHead } from './http-head.ts';
import { runHttpSession } from './http-session.ts';
import { errorBody, errorResponse, missingServiceRule } from './responses.ts';
import { SocketReader } from './socket-reader.ts';
import { runTunnel } from './tunnel.ts';

// The explicit proxy (HTTP_PROXY / HTTPS_PROXY): absolute-form http:// requests are
// served by an HTTP session; CONNECT host:port is admitted, answered 200, and becomes a
// tunnel whose first bytes must agree with the CONNECT target.

const ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n');

/** Serves one connection on the explicit-proxy port. */
export async function serveProxyConnection(core: GatewayCore, connection: ClientConnection): Promise<void> {
  const reader = new SocketReader(connection.socket);
  const result = await runHttpSession(core, connection, connection.socket, { kind: 'proxy' }, reader);
  if (result.connect) await serveConnect(core, connection, result.connect, reader);
}

async function serveConnect(
  core: GatewayCore,
  connection: ClientConnection,
  head: RequestHead,
  reader: SocketReader,
): Promise<void> {
  const socket = connection.socket;
  const refuse = (body: Parameters<typeof errorResponse>[0]) => {
    socket.end(errorResponse(body, false));
  };
  const authority = splitAuthority(head.target);
  if (!authority) {
    core.log.malformed({
      connectionId: connection.id,
      listener: connection.listener,
      reason: 'request_malformed',
      detail: 'CONNECT target is not host:port',
    });
    return refuse(
      errorBody('PDK_EGRESS_BAD_REQUEST', 'request_malformed', {
        method: 'CONNECT',
        path: head.target,
        detail: 'CONNECT target must be host:port',
      }),
    );
  }
  const host = headerValue(head, 'host');
  const hostAuthority = host === undefined ? undefined : splitAuthority(host, authority.port);
  if (
    host !== undefined &&
    (!hostAuthority ||
      !hostsAgree(hostAuthority.host, authority.host) ||
      hostAuthority.port !== authority.port)
  ) {
    const detail = `Host "${host}" disagrees with the CONNECT target ${head.target}`;
    const decision = {
      allow: false,
      stage: 'connect',
      reason: 'host_mismatch',
      rule: 'default-deny',
      detail,
    } as const;
    core.audit.connection(decision, {
      connectionId: connection.id,
      sourceIp: connection.sourceIp,
      host: authority.host,
      port: authority.port,
    });
    core.log.denied({
      connectionId: connection.id,
      host: authority.host,
      port: authority.port,
      reason: 'host_mismatch',
      stage: 'connect',
    });
    return refuse(
      errorBody('PDK_EGRESS_DENIED', 'host_mismatch', { method: 'CONNECT', path: head.target, detail }),
    );
  }
  const admitted = await admit(core, connection, authority.host, authority.port);
  if (!admitted.allow) {
    const { decision } = admitted;
    return refuse(
      errorBody('PDK_EGRESS_DENIED', decision.reason, {
        service: decision.service,
        method: 'CONNECT',
        path: head.target,
        ...(decision.reason === 'address_denied' ? {} : { detail: decision.detail }),
        missingRule: missingServiceRule(authority.host, authority.port, decision.reason, decision.service),
      }),
    );
  }
  // Bytes the client sent after the CONNECT head (an eager ClientHello) go back in front.
  const rest = reader.detach();
  socket.write(ESTABLISHED);
  if (rest.length > 0) socket.unshift(rest);
  await runTunnel(core, connection, admitted);
}
