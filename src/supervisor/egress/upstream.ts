import { type Socket, connect as connectTcp } from 'node:net';
import { type TLSSocket, connect as connectTls } from 'node:tls';

// Opens the upstream side of an allowed connection, to the exact addresses the policy
// checked (IP literals, so no lookup happens here). Re-originated TLS always verifies the
// certificate chain and the host name; there is no switch to turn that off.

export interface UpstreamTarget {
  /** Checked addresses, tried in order until one connects. */
  readonly addresses: readonly string[];
  readonly port: number;
  /** The normalized host (a name, or the IP literal itself). */
  readonly host: string;
  /** Whether `host` is an IP literal (then no SNI is sent, and the certificate must name the IP). */
  readonly literal: boolean;
}

export interface UpstreamTlsOptions {
  /** Trust anchors for upstream certificates. Default: Node's bundled CA store. Tests pass their own CA. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
}

/**
 * Connects TCP to the first reachable address. Rejects with the last error when none is.
 * `paused`: the socket does not start reading, so whatever the server sends first stays in
 * the kernel (for a socket handed to the relay).
 */
export async function connectUpstream(
  target: UpstreamTarget,
  timeoutMs: number,
  options: { readonly paused?: boolean } = {},
): Promise<Socket> {
  let lastError: Error = new Error('no address to connect to');
  for (const address of target.addresses) {
    try {
      return await attempt(
        () => {
          const socket = connectTcp({ host: address, port: target.port, noDelay: true });
          if (options.paused) socket.pause();
          return socket;
        },
        'connect',
        timeoutMs,
      );
    } catch (error) {
      lastError = error as Error;
    }
  }
  throw lastError;
}

/**
 * Connects TLS (HTTP/1.1 only, full verification) to the first reachable address. A
 * certificate failure is not retried on the next address: it would fail the same way.
 */
export async function connectUpstreamTls(
  target: UpstreamTarget,
  tls: UpstreamTlsOptions,
  timeoutMs: number,
): Promise<TLSSocket> {
  const tcp = await connectUpstream(target, timeoutMs);
  return attempt(
    () =>
      connectTls({
        socket: tcp,
        ...(target.literal ? { host: target.host } : { servername: target.host, host: target.host }),
        ca: tls.ca as string[] | undefined,
        ALPNProtocols: ['http/1.1'],
        rejectUnauthorized: true,
      }),
    'secureConnect',
    timeoutMs,
  ).catch((error) => {
    tcp.destroy();
    throw error;
  });
}

function attempt<T extends Socket>(
  open: () => T,
  event: 'connect' | 'secureConnect',
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const socket = open();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`upstream ${event} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.once('error', onError);
    socket.once(event, () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
