import type { Readable, Writable } from 'node:stream';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

// MCP's stdio framing (one JSON-RPC message per line) over any pair of streams: a stdio
// server's pipes inside its sandbox, or an agent's shim connection on the gateway's unix
// socket. The SDK's own stdio transports are bound to process.stdin/stdout or to a child they
// spawn themselves, which fits neither.

/** Longest line accepted from the peer; a longer one closes the transport. 16 MiB. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** A Transport over `input` (messages in) and `output` (messages out). `close` ends both. */
export class StreamTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly input: Readable;
  private readonly output: Writable;
  private readonly buffer = new ReadBuffer({ maxBufferSize: MAX_LINE_BYTES });
  private readonly onEnd: () => void;
  private closed = false;

  /** `onEnd` runs once when the transport closes (e.g. to end a socket or kill a child). */
  constructor(input: Readable, output: Writable, onEnd: () => void = () => {}) {
    this.input = input;
    this.output = output;
    this.onEnd = onEnd;
  }

  async start(): Promise<void> {
    this.input.on('data', (chunk: Buffer) => {
      try {
        this.buffer.append(chunk);
      } catch (error) {
        // Over the line limit: the peer is misbehaving; nothing later on the stream can be trusted.
        this.onerror?.(error as Error);
        void this.close();
        return;
      }
      this.drain();
    });
    this.input.on('error', (error: Error) => this.onerror?.(error));
    this.output.on('error', (error: Error) => this.onerror?.(error));
    this.input.on('close', () => void this.close());
    this.input.on('end', () => void this.close());
  }

  private drain(): void {
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.buffer.readMessage();
      } catch (error) {
        // One malformed line is reported and skipped, as the SDK's stdio transports do.
        this.onerror?.(error as Error);
        continue;
      }
      if (message === null) return;
      this.onmessage?.(message);
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('transport closed');
    const line = serializeMessage(message);
    await new Promise<void>((resolve, reject) => {
      const flushed = this.output.write(line, (error) => (error ? reject(error) : resolve()));
      if (!flushed) this.output.once('drain', () => resolve());
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buffer.clear();
    this.onEnd();
    this.onclose?.();
  }
}
