import { once } from 'node:events';
import WebSocket from 'ws';
import { ChannelServer, IdentityRegistry } from '../../../src/controlplane/channel/index.ts';
import { encodeMessage } from '../../../src/core/channel/index.ts';

// Test support: a real channel server on loopback, and a raw WebSocket client that plays the
// supervisor frame by frame (so tests can send what a real supervisor never would).

export async function startChannel(options: { heartbeatMs?: number } = {}) {
  const registry = new IdentityRegistry();
  const server = await ChannelServer.start({ registry, ...options });
  return { registry, server };
}

export interface Dialled {
  readonly ws: WebSocket;
  /** Messages received so far (parsed text frames). */
  readonly messages: Record<string, unknown>[];
  readonly binary: Buffer[];
  /** Resolves with the close code. */
  readonly closed: Promise<number>;
  next(type: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Upgrades with `token`; resolves to the HTTP status of a refusal, or the open connection. */
export function dial(url: string, token: string | undefined): Promise<{ status: number } | Dialled> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      url,
      token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
    );
    const messages: Record<string, unknown>[] = [];
    const binary: Buffer[] = [];
    const waiters: (() => void)[] = [];
    ws.on('message', (data, isBinary) => {
      if (isBinary) binary.push(data as Buffer);
      else messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
      for (const waiter of waiters.splice(0)) waiter();
    });
    ws.on('unexpected-response', (_request, response) => {
      ws.terminate();
      resolve({ status: response.statusCode ?? 0 });
    });
    ws.on('error', (error) => reject(error));
    const closed = once(ws, 'close').then(([code]) => code as number);
    closed.catch(() => {});
    ws.on('open', () =>
      resolve({
        ws,
        messages,
        binary,
        closed,
        next(type, timeoutMs = 5000) {
          return new Promise((found, fail) => {
            const timer = setTimeout(
              () => fail(new Error(`no ${type} message within ${timeoutMs} ms`)),
              timeoutMs,
            );
            const look = () => {
              const index = messages.findIndex((message) => message['t'] === type);
              if (index >= 0) {
                clearTimeout(timer);
                found(messages.splice(index, 1)[0] as Record<string, unknown>);
              } else waiters.push(look);
            };
            look();
          });
        },
      }),
    );
  });
}

/** Dials and says hello for `workspaceId`; resolves after the welcome. */
export async function dialAndHello(url: string, token: string, workspaceId: string): Promise<Dialled> {
  const result = await dial(url, token);
  if ('status' in result) throw new Error(`refused with ${result.status}`);
  result.ws.send(encodeMessage({ t: 'hello', workspaceId, supervisorVersion: '0.0.0-test', protocol: 1 }));
  await result.next('welcome');
  return result;
}
