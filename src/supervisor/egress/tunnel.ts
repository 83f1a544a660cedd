import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { type EgressDecision, type EgressReason, hostsAgree } from '../../policy/index.ts';
import type { Admitted, ClientConnection, GatewayCore } from './admission.ts';
import { runHttpSession } from './http-session.ts';
import { peek } from './peek.ts';
import { type ClientHelloResult, parseClientHello } from '../sandbox/network/tls-client-hello.ts';
import { connectUpstream } from './upstream.ts';

// What happens on a connection once its destination is admitted (CONNECT, SOCKS, the 443
// listener): the first bytes decide. A TLS ClientHello must name the admitted host (no
// fronting, no Encrypted Client Hello hiding another name); then inspected services get
// TLS terminated with the workspace CA and an HTTP session, others a plain splice. Plain
// HTTP gets an HTTP session either way (so every Host is checked). Anything else is spliced
// for uninspected services only: inspection that cannot read the protocol refuses it.

type FirstBytes =
  | { readonly kind: 'tls'; readonly hello: ClientHelloResult }
  | { readonly kind: 'http' }
  | { readonly kind: 'other' };

const HTTP_METHOD_START = /^[A-Z]{1,16} /;

function judge(bytes: Buffer, maxClientHelloBytes: number): FirstBytes | undefined {
  if (bytes[0] === 0x16) {
    const hello = parseClientHello(bytes, maxClientHelloBytes);
    return hello.kind === 'incomplete' ? undefined : { kind: 'tls', hello };
  }
  const start = bytes.toString('latin1', 0, Math.min(bytes.length, 17));
  if (HTTP_METHOD_START.test(start)) return { kind: 'http' };
  if (/^[A-Z]{0,16}$/.test(start) && start.length < 17) return undefined; // could still be a method
  return { kind: 'other' };
}

/**
 * Serves an admitted tunnel. `hello` is passed when the listener already read the
 * ClientHello (the 443 listener routes on it).
 */
export async function runTunnel(
  core: GatewayCore,
  connection: ClientConnection,
  admitted: Admitted,
  known?: FirstBytes,
): Promise<void> {
  const socket = connection.socket;
  let first = known;
  if (!first) {
    const peeked = await peek(
      socket,
      (bytes) => judge(bytes, core.limits.maxClientHelloBytes),
      core.limits.clientHelloTimeoutMs,
    );
    if (peeked.kind === 'closed') return void socket.destroy();
    // Nothing sent in time: a server-speaks-first protocol, or a stalled client.
    first = peeked.kind === 'done' ? peeked.value : peeked.bytes.length === 0 ? { kind: 'other' } : undefined;
    if (!first)
      return refuse(
        core,
        connection,
        admitted,
        'protocol_not_allowed',
        'the connection did not start with TLS or HTTP in time',
      );
  }
  if (first.kind === 'tls') {
    const hello = first.hello;
    if (hello.kind !== 'hello')
      return refuse(
        core,
        connection,
        admitted,
        'protocol_not_allowed',
        `TLS: ${'detail' in hello ? hello.detail : 'not a ClientHello'}`,
      );
    if (hello.ech)
      return refuse(
        core,
        connection,
        admitted,
        'sni_mismatch',
        'Encrypted Client Hello hides the server name',
      );
    if (hello.serverName === undefined && !admitted.literal)
      return refuse(core, connection, admitted, 'sni_missing', 'TLS ClientHello without a server name');
    if (hello.serverName !== undefined && !hostsAgree(hello.serverName, admitted.host)) {
      return refuse(
        core,
        connection,
        admitted,
        'sni_mismatch',
        `TLS server name "${hello.serverName}" disagrees with ${admitted.host}`,
      );
    }
    if (admitted.inspect) return terminateTls(core, connection, admitted);
    return spliceUpstream(core, connection, admitted);
  }
  if (first.kind === 'http') {
    await runHttpSession(core, connection, socket, { kind: 'bound', admitted, scheme: 'http' });
    return;
  }
  if (admitted.inspect)
    return refuse(
      core,
      connection,
      admitted,
      'protocol_not_allowed',
      'an inspected service must be reached over TLS or HTTP',
    );
  return spliceUpstream(core, connection, admitted);
}

async function terminateTls(
  core: GatewayCore,
  connection: ClientConnection,
  admitted: Admitted,
): Promise<void> {
  const tls = new TLSSocket(connection.socket, {
    isServer: true,
    secureContext: core.ca.secureContextFor(admitted.host),
    ALPNProtocols: ['http/1.1'],
  });
  tls.on('error', () => tls.destroy());
  tls.setTimeout(core.limits.idleTimeoutMs, () => tls.destroy());
  connection.socket.on('close', () => tls.destroy());
  await runHttpSession(core, connection, tls, { kind: 'bound', admitted, scheme: 'https' });
}

async function spliceUpstream(
  core: GatewayCore,
  connection: ClientConnection,
  admitted: Admitted,
): Promise<void> {
  let upstream: Socket;
  try {
    upstream = await connectUpstream(admitted, core.limits.connectTimeoutMs, { paused: true });
  } catch (error) {
    core.log.upstreamFailed({
      connectionId: connection.id,
      host: admitted.host,
      port: admitted.port,
      service: admitted.service.name,
      error: (error as Error).message,
    });
    connection.socket.destroy();
    return;
  }
  // From here the relay moves the bytes; the connection's close event waits for its outcome.
  const socket = connection.socket;
  connection.relayed = {
    bytesRead: socket.bytesRead,
    bytesWritten: socket.bytesWritten,
    // Refused only once the gateway is closing: the tunnel ends with it.
    outcome: core.relay.relay(socket, upstream, core.limits.idleTimeoutMs).catch(() => {
      socket.destroy();
      upstream.destroy();
      return { up: 0, down: 0, reason: 'closed_by_gateway' as const };
    }),
  };
}

function refuse(
  core: GatewayCore,
  connection: ClientConnection,
  admitted: Admitted,
  reason: EgressReason,
  detail: string,
): void {
  const decision: EgressDecision = {
    allow: false,
    stage: 'request',
    reason,
    service: admitted.service.name,
    rule: `${admitted.service.name}#hosts`,
    detail,
  };
  core.audit.connection(decision, {
    connectionId: connection.id,
    sourceIp: connection.sourceIp,
    host: admitted.host,
    port: admitted.port,
  });
  core.log.denied({
    connectionId: connection.id,
    host: admitted.host,
    port: admitted.port,
    service: admitted.service.name,
    reason,
    stage: 'request',
  });
  // The tunnel is already established, so no HTTP answer is possible: the connection is cut.
  connection.socket.destroy();
}
