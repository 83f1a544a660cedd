import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { OcsfEvent } from '../../../../src/audit/index.ts';
import {
  createTerminalBroker,
  type TerminalBroker,
  type TerminalBrokerOptions,
} from '../../../../src/controlplane/broker/terminal-broker.ts';
import type { TerminalTarget } from '../../../../src/controlplane/broker/terminal-target.ts';
import type { Principal } from '../../../../src/controlplane/identity/principal.ts';

// A real HTTP server with the broker mounted on the terminal route, as the control plane's
// server mounts it. Sign-in is not this test's subject (the identity helper's tests cover it):
// a FAKE bearer-token table stands in for the session check, and ownership is the same rule
// the server applies (the principal's own workspace only).

export interface BrokerHarness {
  readonly url: string;
  readonly origin: string;
  readonly broker: TerminalBroker;
  readonly events: OcsfEvent[];
  readonly recordingsDir: string;
  /** token → principal; add or delete to sign in or out. */
  readonly tokens: Map<string, Principal>;
  close(): Promise<void>;
}

export function principal(userId: string, sessionId: string): Principal {
  return {
    userId,
    displayName: userId.split('@')[0] ?? userId,
    groups: [],
    sessionId,
    admin: false,
    reviewer: false,
  };
}

export async function startBrokerHarness(
  targets: Record<string, { owner: string; target: TerminalTarget }>,
  options: Partial<TerminalBrokerOptions> & {
    /** Upgrade with the server's own WebSocketServer (as the HTTP router does) and hand over the socket. */
    readonly serverUpgrades?: boolean;
  } = {},
): Promise<BrokerHarness> {
  const ownWss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const recordingsDir = join(mkdtempSync(join(tmpdir(), 'pdk-broker-')), 'recordings');
  const events: OcsfEvent[] = [];
  const tokens = new Map<string, Principal>();
  let origin = '';
  const broker = createTerminalBroker({
    recordingsDir,
    audit: async (event) => {
      events.push(event);
    },
    ...options,
    allowedOrigins: options.allowedOrigins ?? [],
  });
  const server: Server = createServer((_request, response) => {
    response.writeHead(404).end();
  });
  server.on('upgrade', (request, socket, head) => {
    const match = /^\/api\/workspaces\/([^/?]+)\/terminal(\?|$)/.exec(request.url ?? '');
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const who = token ? tokens.get(token) : undefined;
    const workspace = match ? targets[decodeURIComponent(match[1] as string)] : undefined;
    const status = !who ? 401 : !workspace ? 404 : workspace.owner !== who.userId ? 403 : 0;
    if (status) {
      socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    const target = (workspace as { target: TerminalTarget }).target;
    if (options.serverUpgrades) {
      ownWss.handleUpgrade(request, socket, head, (ws) => {
        void broker.attachWebSocket(ws, request, who as Principal, target);
      });
    } else void broker.handleUpgrade(request, socket, head, who as Principal, target);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `ws://127.0.0.1:${port}`,
    origin,
    broker,
    events,
    recordingsDir,
    tokens,
    async close() {
      await broker.close();
      ownWss.close();
      server.closeAllConnections();
      server.close();
      rmSync(join(recordingsDir, '..'), { recursive: true, force: true });
    },
  };
}
