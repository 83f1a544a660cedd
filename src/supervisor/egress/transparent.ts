import { admit, type ClientConnection, type GatewayCore } from './admission.ts';
import { runHttpSession } from './http-session.ts';
import { peek } from './peek.ts';
import { parseClientHello } from '../sandbox/network/tls-client-hello.ts';
import { runTunnel } from './tunnel.ts';

// The transparent listeners, for clients that ignore the proxy variables: the sandbox's
// nftables rules redirect every TCP connection to port 80 and 443 here. The address the
// client dialled is not used (the gateway re-resolves the name it routes on), so a client
// cannot reach an address by naming an allowed host: Host (80) and SNI (443) are the only
// routing inputs, and both go through the same admission as the explicit proxy.

/** Port 80: an HTTP session whose first request's Host picks the destination. */
export async function serveTransparentHttp(
  core: GatewayCore,
  connection: ClientConnection,
  originalPort: number,
): Promise<void> {
  await runHttpSession(core, connection, connection.socket, { kind: 'transparent', port: originalPort });
}

/** Port 443: route on the ClientHello's server name, then serve as a tunnel to that name. */
export async function serveTransparentTls(
  core: GatewayCore,
  connection: ClientConnection,
  originalPort: number,
): Promise<void> {
  const socket = connection.socket;
  const peeked = await peek(
    socket,
    (bytes) => {
      const hello = parseClientHello(bytes, core.limits.maxClientHelloBytes);
      return hello.kind === 'incomplete' ? undefined : hello;
    },
    core.limits.clientHelloTimeoutMs,
  );
  const refuse = (reason: 'protocol_not_allowed' | 'sni_missing' | 'sni_mismatch', detail: string) => {
    core.audit.connection(
      { allow: false, stage: 'connect', reason, rule: 'default-deny', detail },
      { connectionId: connection.id, sourceIp: connection.sourceIp, host: '', port: originalPort },
    );
    core.log.denied({ connectionId: connection.id, port: originalPort, reason, stage: 'connect' });
    socket.destroy();
  };
  if (peeked.kind !== 'done') {
    if (peeked.kind === 'timeout') refuse('protocol_not_allowed', 'no TLS ClientHello in time');
    else socket.destroy();
    return;
  }
  const hello = peeked.value;
  if (hello.kind === 'not-tls') return refuse('protocol_not_allowed', 'port 443 carries TLS only');
  if (hello.kind === 'error') return refuse('protocol_not_allowed', `TLS: ${hello.detail}`);
  if (hello.kind !== 'hello') return refuse('protocol_not_allowed', 'no ClientHello');
  if (hello.ech) return refuse('sni_mismatch', 'Encrypted Client Hello hides the server name');
  if (hello.serverName === undefined)
    return refuse('sni_missing', 'TLS ClientHello without a server name: nothing to route on');
  const admitted = await admit(core, connection, hello.serverName, originalPort);
  // A refused handshake cannot carry an HTTP answer; the admission event says why.
  if (!admitted.allow) return void socket.destroy();
  await runTunnel(core, connection, admitted, { kind: 'tls', hello });
}
