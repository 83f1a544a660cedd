import type { ReviewGuard } from '../../src/supervisor/egress/admission.ts';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OcsfEvent } from '../../src/audit/index.ts';
import { createLogger } from '../../src/core/index.ts';
import type { EgressServiceSpec } from '../../src/policy/index.ts';
import { compileEgressPolicy } from '../../src/policy/index.ts';
import {
  createEgressGateway,
  createEphemeralWorkspaceCa,
  type EgressGateway,
  type EgressLimits,
  type EgressLogging,
  type EgressPorts,
  type EgressReviewQueue,
  type SecretStore,
  staticResolver,
  type Resolver,
  type TunnelRelayKind,
  type WorkspaceCa,
  openEncryptedFileSecretStore,
  writeEncryptedFileSecretStore,
} from '../../src/supervisor/egress/index.ts';

// Local servers and a gateway for the egress tests. Every server listens on 127.0.0.1 port 0;
// names resolve through a table the test controls, never through DNS.

/** The CA that signs the local upstream servers' certificates (not the workspace CA). */
export const UPSTREAM_CA: WorkspaceCa = createEphemeralWorkspaceCa({ commonName: 'egress-test-upstreams' });

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface Upstream {
  readonly port: number;
  readonly requests: RecordedRequest[];
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * An echo server: answers every request with JSON {method, url, headers, body}, except
 * /quiet… (just "ok"), /bytes/N (N bytes of 'x'), /reflect-auth (the Authorization header as the body) and
 * WebSocket upgrades on /ws (answered 101, then echoes raw bytes).
 */
export async function startUpstream(
  options: { tls?: boolean; host?: string; port?: number } = {},
): Promise<Upstream> {
  const requests: RecordedRequest[] = [];
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      requests.push({ method: request.method!, url: request.url!, headers: request.headers, body });
      const bytes = /^\/bytes\/(\d+)$/.exec(request.url ?? '');
      if (bytes) {
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes[1] });
        response.end(Buffer.alloc(Number(bytes[1]), 'x'));
        return;
      }
      if (request.url?.startsWith('/quiet')) {
        response.end('ok');
        return;
      }
      if (request.url === '/reflect-auth') {
        response.end(`you sent: ${request.headers.authorization ?? ''}`);
        return;
      }
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({ method: request.method, url: request.url, headers: request.headers, body }),
      );
    });
  };
  const server: Server = options.tls
    ? createHttpsServer(
        { SNICallback: (name, callback) => callback(null, UPSTREAM_CA.secureContextFor(name)) },
        handler,
      )
    : createHttpServer(handler);
  server.on('upgrade', (request: IncomingMessage, socket: Socket) => {
    requests.push({ method: request.method!, url: request.url!, headers: request.headers, body: '' });
    const key = request.headers['sec-websocket-key'] ?? '';
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    socket.on('data', (data) => socket.write(data));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export interface GatewayFixture {
  readonly gateway: EgressGateway;
  readonly ports: EgressPorts;
  readonly events: OcsfEvent[];
  /** Every log line the gateway wrote. */
  readonly logs: string[];
  readonly ca: WorkspaceCa;
  close(): Promise<void>;
}

export interface GatewayFixtureOptions {
  readonly services: readonly EgressServiceSpec[];
  readonly names?: Readonly<Record<string, readonly string[]>>;
  readonly resolver?: Resolver;
  readonly secrets?: SecretStore;
  readonly limits?: Partial<EgressLimits>;
  readonly logging?: EgressLogging;
  readonly reviewGate?: ReviewGuard;
  readonly reviewQueue?: EgressReviewQueue;
  /** The L4 relay; default the gateway's own (native on Linux). */
  readonly relay?: TunnelRelayKind;
}

/** Both L4 relays, for suites that run once with each. */
export const RELAYS: readonly TunnelRelayKind[] = ['native', 'stream'];

/** A gateway on 127.0.0.1 (ephemeral ports) that trusts UPSTREAM_CA for re-originated TLS. */
export async function startGateway(options: GatewayFixtureOptions): Promise<GatewayFixture> {
  const events: OcsfEvent[] = [];
  const logs: string[] = [];
  const ca = createEphemeralWorkspaceCa({ commonName: 'egress-test-workspace' });
  const gateway = createEgressGateway({
    policy: compileEgressPolicy(options.services),
    ca,
    onEvent: (event) => events.push(event),
    context: () => ({
      workspaceId: 'ws-test',
      sessionId: 'session-test',
      bundle: { id: 'bundle-test', version: '7' },
    }),
    secrets: options.secrets,
    resolver: options.resolver ?? staticResolver(options.names ?? {}),
    upstreamTls: { ca: UPSTREAM_CA.certPem },
    logging: options.logging,
    limits: options.limits,
    reviewGate: options.reviewGate,
    reviewQueue: options.reviewQueue,
    relay: options.relay,
    logger: createLogger('egress', { level: 'debug', write: (line) => logs.push(line) }),
  });
  const ports = await gateway.bind('127.0.0.1', {
    httpProxy: 0,
    transparentHttp: 0,
    transparentHttps: 0,
    socks: 0,
  });
  return { gateway, ports, events, logs, ca, close: () => gateway.close() };
}

/** Sends raw bytes to a port and collects everything until the peer closes or `waitMs` passes. */
export function rawExchange(
  port: number,
  chunks: ReadonlyArray<string | Buffer>,
  waitMs = 1500,
): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(received);
    }, waitMs);
    socket.on('data', (data) => {
      received += data.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        socket.write(chunk);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
  });
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a real client (curl, python3, git, node) with a clean environment plus `env`. */
export function runClient(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
    });
    child.stderr.on('data', (data: Buffer) => {
      stderr += data.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Events of one class and decision, e.g. eventsOf(events, 4001, 'egress.denied'). */
export function eventsOf(events: readonly OcsfEvent[], classUid: number, code?: string): OcsfEvent[] {
  return events.filter(
    (event) => event.class_uid === classUid && (code === undefined || event.metadata.event_code === code),
  );
}

/** A real encrypted secret file (raw 32-byte key, mode 0600) holding `secrets`, opened. */
export async function makeSecretStore(
  secrets: Record<string, string>,
): Promise<{ store: SecretStore; dir: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'pdk-secrets-'));
  const keyFile = join(dir, 'secrets.key');
  writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
  const file = join(dir, 'secrets.json');
  await writeEncryptedFileSecretStore({ file, keyFile, secrets });
  const store = await openEncryptedFileSecretStore({ file, keyFile });
  return { store, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes PEM text to a fresh temporary file and returns its path. */
export function pemFile(pem: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pdk-ca-'));
  const path = join(dir, 'ca.pem');
  writeFileSync(path, pem);
  return path;
}

/**
 * A resolver whose answers the test changes at will, counting lookups per name. `answers`
 * may be a list (one answer for every lookup) or a function of the lookup number.
 */
export function scriptedResolver(): {
  resolver: Resolver;
  set: (name: string, answers: readonly string[] | ((call: number) => readonly string[])) => void;
  calls: Map<string, number>;
} {
  const table = new Map<string, readonly string[] | ((call: number) => readonly string[])>();
  const calls = new Map<string, number>();
  return {
    calls,
    set: (name, answers) => table.set(name, answers),
    resolver: async (name) => {
      const call = (calls.get(name) ?? 0) + 1;
      calls.set(name, call);
      const answers = table.get(name);
      if (!answers) throw new Error(`${name} does not resolve`);
      return typeof answers === 'function' ? answers(call) : answers;
    },
  };
}

/**
 * Opens a CONNECT tunnel through the proxy and returns the raw socket once the proxy
 * answered, with the proxy's status line.
 */
export function connectTunnel(
  proxyPort: number,
  authority: string,
  extraHeaders = '',
): Promise<{ socket: Socket; status: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: proxyPort });
    let buffer = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', function onData(chunk: Buffer) {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      resolve({
        socket,
        status: buffer.toString('latin1', 0, buffer.indexOf('\r\n')),
        rest: buffer.subarray(end + 4),
      });
    });
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${extraHeaders}\r\n`);
  });
}

/** Resolves when the socket closes, or with 'open' after `ms`. */
export function closedWithin(socket: Socket, ms: number): Promise<'closed' | 'open'> {
  if (socket.destroyed) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('open'), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
    socket.resume();
  });
}

/**
 * Opens TLS through a CONNECT tunnel (trusting the upstream test CA and `extraCa`), sends
 * `request` once the handshake is done, and collects the answer until close or `waitMs`.
 */
export async function tlsRequest(
  proxyPort: number,
  authority: string,
  servername: string,
  request: string | string[],
  extraCa: string,
  waitMs = 1500,
): Promise<string> {
  const tunnel = await connectTunnel(proxyPort, authority);
  if (!tunnel.status.includes(' 200 ')) {
    tunnel.socket.destroy();
    return `${tunnel.status}\r\n${tunnel.rest.toString()}`;
  }
  tunnel.socket.resume();
  const { connect: tlsConnect } = await import('node:tls');
  const tls = tlsConnect({
    socket: tunnel.socket,
    servername,
    ca: [UPSTREAM_CA.certPem, extraCa],
    ALPNProtocols: ['http/1.1'],
  });
  return new Promise((resolve) => {
    let received = '';
    const timer = setTimeout(() => {
      tls.destroy();
      resolve(received);
    }, waitMs);
    tls.on('secureConnect', async () => {
      for (const part of Array.isArray(request) ? request : [request]) {
        tls.write(part);
        await new Promise((r) => setTimeout(r, 30));
      }
    });
    tls.on('data', (data: Buffer) => {
      received += data.toString('latin1');
    });
    tls.on('error', () => {});
    tls.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

/**
 * A connected loopback pair: `peer` is the far end (the sandbox's client, or the upstream
 * server), `gateway` the end the gateway holds, paused as the gateway hands it over.
 */
async function pair(gatewayDials: boolean): Promise<{ peer: Socket; gateway: Socket }> {
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const dialled = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  if (gatewayDials)
    dialled.pause(); // as connectUpstream({ paused: true })
  else dialled.allowHalfOpen = true;
  await once(dialled, 'connect');
  const [taken] = await accepted;
  server.close();
  for (const socket of [dialled, taken]) socket.on('error', () => {});
  return gatewayDials ? { peer: taken, gateway: dialled } : { peer: dialled, gateway: taken };
}

/** A sandbox client and an upstream server, each connected to the gateway's end. */
export async function tunnelEnds() {
  const client = await pair(false);
  const upstream = await pair(true);
  return {
    sandbox: client.peer,
    gatewayClient: client.gateway,
    server: upstream.peer,
    gatewayUpstream: upstream.gateway,
  };
}
