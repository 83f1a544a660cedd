import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { PaddockError } from '../../core/errors.ts';
import { ensureNativeProgram } from '../native-program.ts';
import type { RelayEndReason, RelayOutcome, TunnelRelay } from './tunnel-relay.ts';

// The L4 data path: once the gateway has admitted a tunnel and connected upstream, both
// sockets go to the relay process (native/paddock-relay.c), which moves the bytes with
// splice(2) and reports when the tunnel ends. Node's IPC channel carries the sockets (the
// only way Node passes a descriptor to another process); the relay speaks its JSON framing.

const RELAY = {
  name: 'paddock-relay',
  source: join(import.meta.dirname, 'native', 'paddock-relay.c'),
  buildError: 'PDK_EGRESS_RELAY_BUILD',
  description: 'the egress relay',
} as const;

interface ClosedReport {
  readonly closed: number;
  readonly up: number;
  readonly down: number;
  readonly reason: RelayEndReason;
}

/** The native handle inside a net.Socket: what Node's IPC can send as a descriptor. */
type NativeHandle = { readStop(): number; reading: boolean };

/**
 * One relay process per gateway, started on first use and again after it stops.
 * @example
 * const relay = new NativeRelay({ onStopped: (error) => log.internal({ error: error.message }) });
 * const outcome = await relay.relay(client, upstream, 300_000); // resolves when the tunnel ends
 */
export class NativeRelay implements TunnelRelay {
  readonly #binary: string;
  readonly #onStopped: (error: PaddockError) => void;
  #child: ChildProcess | undefined;
  readonly #pending = new Map<number, (outcome: RelayOutcome) => void>();
  #nextId = 1;
  #closing = false;

  constructor(options: { onStopped: (error: PaddockError) => void; outDir?: string }) {
    this.#binary = ensureNativeProgram(RELAY, options.outDir);
    this.#onStopped = options.onStopped;
  }

  /** Tunnels the relay carries now. */
  get open(): number {
    return this.#pending.size;
  }

  /**
   * Hands both connected sockets to the relay; the Node sockets are destroyed once sent (the
   * connections live on in the relay). Bytes either socket had buffered go first.
   */
  async relay(client: Socket, upstream: Socket, idleTimeoutMs: number): Promise<RelayOutcome> {
    if (this.#closing) throw new PaddockError('PDK_EGRESS_RELAY', 'the gateway is closing');
    const child = this.#ensureChild();
    const id = this.#nextId++;
    // Reading stops now, so the sockets' own counters stop where the gateway's part ends.
    const clientSide = detach(client);
    const upstreamSide = detach(upstream);
    // Anything queued for either socket must reach the kernel before the relay writes after it.
    await Promise.all([flushed(client), flushed(upstream)]);
    if (!clientSide || !upstreamSide || client.destroyed || upstream.destroyed) {
      client.destroy();
      upstream.destroy();
      return { up: 0, down: 0, reason: 'closed_before_relay' };
    }
    const outcome = new Promise<RelayOutcome>((resolve) => this.#pending.set(id, resolve));
    const send = (side: 'c' | 'u', socket: Socket, handle: NativeHandle, pre: Buffer) =>
      child.send({ id, side, idle: idleTimeoutMs, pre: pre.toString('base64') }, handle as never, (error) => {
        // Sent (the relay holds its own descriptor) or not: either way ours is done.
        socket.destroy();
        if (error) this.#endTunnel(id, child);
      });
    send('c', client, clientSide.handle, clientSide.pre);
    send('u', upstream, upstreamSide.handle, upstreamSide.pre);
    return outcome;
  }

  /** Ends every tunnel (waiting up to a second for their byte counts) and stops the relay. */
  async close(): Promise<void> {
    this.#closing = true;
    const child = this.#child;
    if (!child) return;
    if (this.#pending.size > 0 && child.connected) {
      const ended = Promise.all([...this.#pending.keys()].map((id) => this.#whenEnded(id)));
      for (const id of this.#pending.keys()) child.send({ op: 'close', id });
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    }
    if (child.connected) child.disconnect();
    child.kill('SIGKILL');
  }

  #whenEnded(id: number): Promise<void> {
    const resolve = this.#pending.get(id);
    if (!resolve) return Promise.resolve();
    return new Promise((done) =>
      this.#pending.set(id, (outcome) => {
        resolve(outcome);
        done();
      }),
    );
  }

  #endTunnel(id: number, child: ChildProcess): void {
    if (child.connected) child.send({ op: 'close', id });
  }

  #ensureChild(): ChildProcess {
    if (this.#child && this.#child.exitCode === null && this.#child.connected) return this.#child;
    const child = spawn(this.#binary, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let lastWords = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      lastWords = (lastWords + chunk.toString('utf8')).slice(-2000);
    });
    child.on('message', (message: ClosedReport) => {
      const resolve = this.#pending.get(message.closed);
      if (!resolve) return;
      this.#pending.delete(message.closed);
      resolve({ up: message.up, down: message.down, reason: message.reason });
    });
    child.once('exit', (code, signal) => {
      if (this.#child === child) this.#child = undefined;
      // Its tunnels died with it: their descriptors closed when it exited.
      for (const [id, resolve] of this.#pending) {
        this.#pending.delete(id);
        resolve({ up: 0, down: 0, reason: 'relay_stopped' });
      }
      if (!this.#closing) {
        this.#onStopped(
          new PaddockError(
            'PDK_EGRESS_RELAY',
            `the egress relay stopped (${signal ?? `exit ${code}`})${lastWords ? `: ${lastWords.trim()}` : ''}`,
          ),
        );
      }
    });
    child.on('error', () => {}); // 'exit' reports it
    // Neither the relay nor its pipes keep the supervisor alive; its listeners do.
    child.unref();
    (child.stderr as Socket).unref();
    (child.channel as { unref(): void } | undefined)?.unref();
    this.#child = child;
    return child;
  }
}

/** Resolves once what was written to `socket` reached the kernel, or the socket closed. */
function flushed(socket: Socket): Promise<void> {
  if (socket.writableLength === 0 || socket.destroyed) return Promise.resolve();
  // An empty write's callback runs once every write before it is done. 'drain' would not do:
  // it comes only after a write that returned false, not for a small write still in flight.
  return new Promise((resolve) => {
    const done = () => {
      socket.off('close', done);
      resolve();
    };
    socket.write(EMPTY, done);
    socket.once('close', done);
  });
}
const EMPTY = Buffer.alloc(0);

/**
 * Stops `socket` reading and takes what it had buffered. Undefined when it is already closed.
 * Reading the buffer may restart reading (stream machinery), so reading is stopped again after:
 * both happen in this tick, before the event loop could deliver another chunk.
 */
function detach(socket: Socket): { handle: NativeHandle; pre: Buffer } | undefined {
  const handle = (socket as unknown as { _handle?: NativeHandle | null })._handle;
  if (!handle || socket.destroyed) return undefined;
  socket.pause();
  const chunks: Buffer[] = [];
  for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null)
    chunks.push(chunk);
  handle.reading = false;
  handle.readStop();
  return { handle, pre: Buffer.concat(chunks) };
}
