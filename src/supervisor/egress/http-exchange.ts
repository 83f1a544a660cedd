import type { Duplex } from 'node:stream';
import { FramingError, forwardBody } from './http-body.ts';
import { type BodyFraming, connectionTokens } from './http-head.ts';
import { parseResponseHead, type ResponseHead, responseFraming } from './http-response-head.ts';
import { type Sink, type SocketReader, streamSink } from './socket-reader.ts';

// One allowed request and its response: the head goes upstream, the body follows with its
// framing checked, and the response comes back byte for byte, parsed only to know where it
// ends. Interim (1xx) responses pass through; a 101 to a WebSocket upgrade hands both
// connections over to a splice.

export interface UpstreamConnection {
  /** Destination key: the connection is reused only for the same host, port, scheme and addresses. */
  readonly key: string;
  readonly socket: Duplex & { destroyed: boolean };
  readonly reader: SocketReader;
}

export interface ExchangeInput {
  readonly client: Duplex;
  readonly clientReader: SocketReader;
  readonly upstream: UpstreamConnection;
  /** The request head to send, already rewritten (origin-form, credential injected). */
  readonly head: Buffer;
  readonly method: string;
  readonly framing: BodyFraming;
  /** Whether the request asked for a WebSocket upgrade (then a 101 switches to a splice). */
  readonly upgrade: boolean;
  /** Byte strings that must never reach the client (the injected credential, as sent). */
  readonly guard: readonly Buffer[];
  readonly onLeak: () => void;
  readonly maxResponseHeadBytes: number;
}

export interface ExchangeResult {
  readonly status: number;
  /** Whether client and upstream may carry another request. */
  readonly keepAlive: boolean;
  readonly upgraded: boolean;
}

/** Thrown when the exchange failed; `responded` says whether any response byte reached the client. */
export class ExchangeError extends Error {
  readonly responded: boolean;
  readonly clientFault: boolean;

  constructor(message: string, responded: boolean, clientFault: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExchangeError';
    this.responded = responded;
    this.clientFault = clientFault;
  }
}

export async function exchange(input: ExchangeInput): Promise<ExchangeResult> {
  const { upstream } = input;
  let responded = false;
  let requestFault: unknown;
  const clientSink = guardedSink(input.client, input.guard, input.onLeak);
  // A head and a body that has fully arrived go out in one write: on small requests the
  // write syscalls are most of the gateway's cost.
  const { framing: requestFraming, clientReader } = input;
  // Undefined when the whole request went out in the one write (most requests: no body).
  let requestBody: Promise<void> | undefined;
  if (requestFraming.kind === 'none') {
    upstream.socket.write(input.head);
  } else if (requestFraming.kind === 'length' && clientReader.length >= requestFraming.length) {
    upstream.socket.write(Buffer.concat([input.head, clientReader.consume(requestFraming.length)]));
  } else {
    upstream.socket.write(input.head);
    requestBody = forwardBody(clientReader, requestFraming, streamSink(upstream.socket)).catch((error) => {
      requestFault = error;
      // The upstream holds a partial request; it must not be reused or see anything more.
      upstream.socket.destroy();
    });
  }
  try {
    let response: ResponseHead;
    let framing: ReturnType<typeof responseFraming>;
    for (;;) {
      response = await readResponseHead(upstream.reader, input.maxResponseHeadBytes);
      framing = responseFraming(response, input.method);
      if (typeof framing === 'string') throw new Error(`upstream response: ${framing}`);
      // Only now does anything go to the client; a refused head still gets a 502.
      responded = true;
      const whole = framing.kind === 'length' ? response.length + framing.length : response.length;
      if (
        response.status < 200 ||
        framing.kind === 'none' ||
        (framing.kind === 'length' && upstream.reader.length >= whole)
      ) {
        // Head and complete body in one write (or a head without a body).
        if (!clientSink.write(upstream.reader.consume(whole))) await clientSink.drain();
        if (response.status === 101) {
          if (!input.upgrade) throw new Error('101 Switching Protocols without an upgrade request');
          if (requestBody) await requestBody;
          return { status: 101, keepAlive: false, upgraded: true };
        }
        if (response.status >= 200) break;
        continue;
      }
      if (!clientSink.write(upstream.reader.consume(response.length))) await clientSink.drain();
      await forwardBody(upstream.reader, framing, clientSink, { allowChunkExtensions: true });
      break;
    }
    if (requestBody) await requestBody;
    if (requestFault) throw requestFault;
    const keepAlive =
      framing.kind !== 'close' && response.version === '1.1' && !connectionTokens(response).has('close');
    return { status: response.status, keepAlive, upgraded: false };
  } catch (error) {
    if (requestBody) await requestBody;
    const fault = requestFault ?? error;
    throw new ExchangeError(
      (fault as Error).message,
      responded,
      fault instanceof FramingError && fault === requestFault,
      {
        cause: fault,
      },
    );
  }
}

async function readResponseHead(reader: SocketReader, maxBytes: number): Promise<ResponseHead> {
  for (;;) {
    const parsed = parseResponseHead(reader.peek(), maxBytes);
    if (parsed.kind === 'head') return parsed.head;
    if (parsed.kind === 'error') throw new Error(`upstream response: ${parsed.detail}`);
    await reader.more();
  }
}

/**
 * A sink to the client that refuses to pass any of `needles`, even split across writes: a
 * service echoing the injected credential back (a debug endpoint, an error page) would
 * otherwise hand the secret to the sandbox.
 */
function guardedSink(client: Duplex, needles: readonly Buffer[], onLeak: () => void): Sink {
  const sink = streamSink(client);
  if (needles.length === 0) return sink;
  const keep = Math.max(...needles.map((needle) => needle.length)) - 1;
  let tail: Buffer = Buffer.alloc(0);
  return {
    write(chunk) {
      const window = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
      if (needles.some((needle) => window.includes(needle))) {
        onLeak();
        return false;
      }
      tail = window.subarray(Math.max(0, window.length - keep));
      return sink.write(chunk);
    },
    drain: sink.drain,
  };
}
