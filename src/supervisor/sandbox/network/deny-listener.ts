import type { Socket } from 'node:net';
import { createLogger } from '../../../core/log.ts';
import { createDenyHttpHandler } from './deny-http.ts';
import { createDenySocksHandler, createDenyTlsHandler } from './deny-stream.ts';
import {
  denyAllEgress,
  type EgressDecider,
  type EgressDenialHandler,
  type EgressListener,
} from './egress-listener.ts';
import { bindEgressSockets, type EgressSocketOptions, type EgressSockets } from './listener-sockets.ts';
import { createRefuser } from './refusal.ts';
import type { SandboxNetwork } from './sandbox-network.ts';

// The default EgressListener: it speaks every protocol the sandbox's proxy variables and the
// transparent redirect lead to, learns the destination, reports the denial, and refuses.
// It carries no traffic whatever the decider says, so a sandbox with only this listener has
// no egress at all — the state every sandbox is in until a gateway replaces it.

const log = createLogger('egress-listener');

export interface DenyListenerOptions extends EgressSocketOptions {
  /**
   * Consulted for each request so denials carry the policy's reason. Default: deny all. An
   * `allow` is still refused here (reason `gateway_unavailable`): this listener never forwards.
   */
  readonly decide?: EgressDecider;
  /** Receives each refusal, e.g. to write an `egress.denied` Network Activity event. */
  readonly onDenied?: EgressDenialHandler;
}

/**
 * Creates the deny-all egress listener.
 * @example
 * const listener = createDenyListener({ onDenied: (d) => spool.append(egressDeniedEvent(d)) });
 * await listener.listen(network);
 * // CONNECT, absolute-form HTTP, transparent 80/443 and SOCKS5 from the sandbox are all refused.
 */
export function createDenyListener(options: DenyListenerOptions = {}): EgressListener {
  const refuse = createRefuser(options.decide ?? denyAllEgress, options.onDenied);
  let sockets: EgressSockets | undefined;
  let binding: Promise<void> | undefined;
  return {
    listen(network: SandboxNetwork): Promise<void> {
      if (binding)
        return Promise.reject(new Error('this listener is already bound; create one per sandbox network'));
      binding = (async () => {
        const handlers: Record<keyof SandboxNetwork['ports'], (socket: Socket) => void> = {
          httpProxy: createDenyHttpHandler(network.id, 'proxy', refuse),
          transparentHttp: createDenyHttpHandler(network.id, 'transparent', refuse),
          transparentHttps: createDenyTlsHandler(network.id, refuse),
          socks: createDenySocksHandler(network.id, refuse),
        };
        sockets = await bindEgressSockets(network, handlers, {
          ...options,
          onForeignConnection: (listener, remoteAddress) => {
            log.warn(
              { sandbox: network.id, listener, remoteAddress },
              'connection from outside the sandbox refused',
            );
            options.onForeignConnection?.(listener, remoteAddress);
          },
        });
      })();
      return binding;
    },
    async close(): Promise<void> {
      await binding?.catch(() => {});
      await sockets?.close();
    },
  };
}
