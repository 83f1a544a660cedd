import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { PaddockError } from '../../core/index.ts';
import type { AgentSession } from './agent-session.ts';
import type { SessionSource } from './gateway.ts';

// The gateway as a Streamable HTTP server (MCP 2025-11-25): one agent session per MCP session
// id. Three checks come before MCP sees a request: the path; Host and Origin must name this
// endpoint (DNS rebinding: a web page the user opens must not reach the gateway through a name
// it controls); and the bearer token, unless the operator explicitly allows any local client.

/** Largest request body read. 4 MiB. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface HttpEndpointOptions {
  /** Address to bind, e.g. 127.0.0.1 or the sandbox network's host address. */
  readonly host: string;
  /** Port; 0 asks for an ephemeral one. */
  readonly port: number;
  /** The MCP path. Default /mcp. */
  readonly path?: string;
  /** Bearer token every request must carry. Required unless allowUnauthenticatedClients. */
  readonly token?: string;
  /**
   * UNSAFE: serve any client that can reach the address, without a token. Only for a loopback
   * address on a single-user host (the conformance run); anything that can connect acts as the agent.
   */
  readonly allowUnauthenticatedClients?: boolean;
  /** Extra Host header values accepted (`name:port`). Default: the bound address, localhost, 127.0.0.1, [::1]. */
  readonly allowedHosts?: readonly string[];
}

export interface HttpEndpoint {
  /** The endpoint URL, e.g. http://127.0.0.1:41234/mcp. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

interface Entry {
  readonly session: AgentSession;
  readonly transport: StreamableHTTPServerTransport;
  lastUsed: number;
}

function reject(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return size === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export async function listenHttp(source: SessionSource, options: HttpEndpointOptions): Promise<HttpEndpoint> {
  if (!options.token && !options.allowUnauthenticatedClients) {
    throw new PaddockError(
      'PDK_MCP_CONFIG_INVALID',
      'the MCP gateway HTTP endpoint needs a token (or allowUnauthenticatedClients on a single-user loopback)',
    );
  }
  const path = options.path ?? '/mcp';
  const expected = options.token ? Buffer.from(`Bearer ${options.token}`) : undefined;
  const sessions = new Map<string, Entry>();
  const hosts = new Set<string>();

  const refuse = (res: ServerResponse, status: number, reason: string, req: IncomingMessage) => {
    source.log.requestRefused({
      endpoint: 'http',
      reason,
      host: req.headers.host,
      origin: req.headers.origin,
    });
    reject(res, status, reason);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (new URL(req.url ?? '/', 'http://gateway').pathname !== path)
      return refuse(res, 404, 'Not Found', req);
    const host = req.headers.host ?? '';
    const origin = req.headers.origin;
    if (!hosts.has(host) || (origin !== undefined && !hosts.has(originHost(origin))))
      return refuse(res, 403, 'Forbidden: Host or Origin does not name this endpoint', req);
    if (expected) {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        return refuse(res, 401, 'Unauthorized', req);
    }
    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = await readBody(req);
      } catch (error) {
        return refuse(res, 400, `Parse error: ${(error as Error).message}`, req);
      }
    }
    const id = req.headers['mcp-session-id'];
    if (typeof id === 'string') {
      const entry = sessions.get(id);
      if (!entry) return refuse(res, 404, 'Session not found', req);
      entry.lastUsed = Date.now();
      return entry.transport.handleRequest(req, res, body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(body))
      return refuse(res, 400, 'Bad Request: no valid session id', req);
    const session = source.open();
    if (!session) return refuse(res, 503, 'Too many MCP sessions', req);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sessionId) => {
        sessions.set(sessionId, { session, transport, lastUsed: Date.now() });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
      void session.close();
    };
    await session.server.connect(transport);
    await transport.handleRequest(req, res, body);
    // An initialize that failed leaves no session id: nothing can reach this session again.
    if (!transport.sessionId) await session.close();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      source.log.sessionFailed('http', error.message);
      if (!res.headersSent) reject(res, 500, 'Internal error');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, rejectListen) => {
    server.once('error', (error) =>
      rejectListen(
        new PaddockError(
          'PDK_MCP_CONFIG_INVALID',
          `cannot listen on ${options.host}:${options.port}: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const bound = options.host.includes(':') ? `[${options.host}]` : options.host;
  for (const name of [bound, 'localhost', '127.0.0.1', '[::1]']) hosts.add(`${name}:${port}`);
  for (const name of options.allowedHosts ?? []) hosts.add(name);
  const reaper = setInterval(
    () => {
      const now = Date.now();
      for (const entry of sessions.values()) {
        if (now - entry.lastUsed > source.limits.sessionIdleMs) void entry.transport.close();
      }
    },
    Math.min(60_000, Math.max(1000, source.limits.sessionIdleMs / 2)),
  );
  reaper.unref();
  const url = `http://${bound}:${port}${path}`;
  source.log.listening('http', url);
  return {
    url,
    port,
    async close() {
      clearInterval(reaper);
      await Promise.all([...sessions.values()].map((entry) => entry.transport.close().catch(() => {})));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `host:port` of an Origin header; an unparsable origin matches nothing. */
function originHost(origin: string): string {
  if (!URL.canParse(origin)) return '';
  const url = new URL(origin);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.host || '' : '';
}
