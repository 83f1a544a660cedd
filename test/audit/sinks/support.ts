import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { httpDecisionEvent, type OcsfEvent } from '../../../src/audit/index.ts';
import { agent, bundle } from '../event-fixtures.ts';

// Test support for the sink tests: real OCSF events from the builders, a local HTTP receiver
// that records exactly what arrived (the stand-in for Splunk, Azure Monitor and an OTLP
// collector: each test checks the documented wire format against it), and port helpers.

/** `count` real HTTP Activity events, numbered in `url` (`?n=0`, `?n=1`, …) so order is checkable. */
export function sampleEvents(count: number, from = 0): OcsfEvent[] {
  const events: OcsfEvent[] = [];
  for (let n = from; n < from + count; n++)
    events.push(
      httpDecisionEvent({
        ...agent,
        bundle,
        decision: n % 3 === 0 ? 'deny' : 'allow',
        reasonCode: n % 3 === 0 ? 'host_not_allowed' : 'rule_allowed',
        method: 'GET',
        url: `https://api.example.com/items?n=${n}`,
      }),
    );
  return events;
}

/** The `n` an event from sampleEvents carries. */
export function sampleNumber(event: unknown): number {
  const url =
    (event as { http_request?: { url?: { url_string?: string } } }).http_request?.url?.url_string ?? '';
  return Number(/[?&]n=(\d+)/.exec(url)?.[1] ?? Number.NaN);
}

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The body as sent (gzip-decoded when Content-Encoding says gzip). */
  readonly body: string;
  /** The bytes on the wire. */
  readonly raw: Buffer;
}

export interface StandInReceiver {
  readonly url: string;
  readonly port: number;
  readonly requests: ReceivedRequest[];
  /** Decides each response; default 200 with an empty JSON object. */
  respond: (request: ReceivedRequest, response: ServerResponse) => void;
  close(): Promise<void>;
}

/** A local HTTP receiver on 127.0.0.1 (port 0 = any free port). */
export async function startReceiver(port = 0): Promise<StandInReceiver> {
  const requests: ReceivedRequest[] = [];
  const receiver: StandInReceiver = {
    url: '',
    port: 0,
    requests,
    respond: (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body =
        req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, raw };
      requests.push(request);
      receiver.respond(request, res);
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const actual = (server.address() as AddressInfo).port;
  Object.assign(receiver, { url: `http://127.0.0.1:${actual}`, port: actual });
  return receiver;
}

/** A port that was free a moment ago (for services that must be started on a known port). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls `check` until it returns true (or throws after `timeoutMs`). */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Stops a child process we started, by its pid, and waits for it. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export { spawn };

/** Fast delivery settings for tests: small batches, short waits, quick retries. */
export const FAST = {
  batchSize: 50,
  batchWait: '20ms',
  retries: 5,
  backoff: '20ms',
  maxBackoff: '200ms',
} as const;
