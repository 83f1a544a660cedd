// The benchmark's load generator, in its own process: keep-alive request rate or request
// latency (part (a)'s bulk sink is C: bulk-endpoints.c), directly or through a proxy (CONNECT or
// absolute-form), optionally over TLS inside the tunnel. argv[2] is the job as JSON; the
// result is printed as JSON.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

interface Job {
  readonly mode: 'rate' | 'latency';
  readonly via: 'direct' | 'connect' | 'absolute';
  readonly proxyPort?: number;
  /** Where to connect (direct) or what to CONNECT to / name in the absolute URL. */
  readonly target: { readonly host: string; readonly port: number };
  /** Address to dial for `direct` when target.host is a name. */
  readonly dial?: string;
  readonly tls?: { readonly servername: string; readonly caFile: string };
  readonly connections?: number;
  readonly seconds?: number;
  readonly requests?: number;
}

const job = JSON.parse(process.argv[2]!) as Job;
const authority = `${job.target.host}:${job.target.port}`;
const path = job.via === 'absolute' ? `http://${authority}/` : '/';
const REQUEST = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: pdk-bench\r\n\r\n`);
const ca = job.tls ? readFileSync(job.tls.caFile, 'utf8') : undefined;

function tcp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

async function open(): Promise<Socket> {
  let socket: Socket;
  if (job.via === 'direct') socket = await tcp(job.dial ?? job.target.host, job.target.port);
  else socket = await tcp('127.0.0.1', job.proxyPort!);
  if (job.via === 'connect') {
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    await new Promise<void>((resolve, reject) => {
      let head = '';
      const onData = (chunk: Buffer) => {
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        socket.off('data', onData);
        socket.pause();
        if (!/^HTTP\/1\.[01] 200/.test(head)) reject(new Error(`CONNECT refused: ${head.split('\r\n')[0]}`));
        else resolve();
      };
      socket.on('data', onData);
    });
  }
  if (!job.tls) return socket;
  return new Promise((resolve, reject) => {
    const secure = tlsConnect(
      { socket, servername: job.tls!.servername, ca, ALPNProtocols: ['http/1.1'] },
      () => resolve(secure as unknown as Socket),
    );
    secure.once('error', reject);
  });
}

/** One keep-alive connection that sends a request and resolves when its response is complete. */
class Client {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: ((ok: boolean) => void) | undefined;
  closed = false;
  readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.check();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.(false);
    });
    socket.on('error', () => {});
    socket.resume();
  }

  request(): Promise<boolean> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(REQUEST);
    });
  }

  private check(): void {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buffer.toString('latin1', 0, end);
    const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buffer.length < end + 4 + length) return;
    this.buffer = this.buffer.subarray(end + 4 + length);
    if (/connection:\s*close/i.test(head)) this.closed = true;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(true);
  }
}

async function worker(deadline: number, samples: number[] | undefined, limit: number): Promise<number> {
  let client = new Client(await open());
  let done = 0;
  while (performance.now() < deadline && done < limit) {
    const started = performance.now();
    const ok = await client.request();
    if (ok) {
      done += 1;
      samples?.push(performance.now() - started);
    }
    if (client.closed) {
      client.socket.destroy();
      client = new Client(await open());
    }
  }
  client.socket.destroy();
  return done;
}

async function rate(): Promise<Record<string, number>> {
  const seconds = job.seconds ?? 4;
  await worker(performance.now() + 300, undefined, Number.POSITIVE_INFINITY); // warm-up
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const counts = await Promise.all(
    Array.from({ length: job.connections ?? 16 }, () =>
      worker(deadline, undefined, Number.POSITIVE_INFINITY),
    ),
  );
  const total = counts.reduce((sum, count) => sum + count, 0);
  return { requestsPerSecond: (total / (performance.now() - started)) * 1000 };
}

async function latency(): Promise<Record<string, number>> {
  await worker(performance.now() + 300, undefined, 500); // warm-up
  const samples: number[] = [];
  await worker(performance.now() + 30_000, samples, job.requests ?? 4000);
  samples.sort((a, b) => a - b);
  const at = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]! * 1000;
  return { p50Us: at(0.5), p99Us: at(0.99), samples: samples.length };
}

const result = await (job.mode === 'rate' ? rate() : latency());
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
