import type { BodyFraming } from './http-head.ts';
import type { ResponseFraming } from './http-response-head.ts';
import type { Sink, SocketReader } from './socket-reader.ts';

// Forwards one message body, byte for byte, while checking its framing. Chunked bodies are
// validated as they stream: a chunk size is 1-12 hex digits and nothing else (no sign, no
// whitespace, no leading "0x"), every line ends in CRLF, the data is followed by CRLF, and
// trailer fields are well-formed. Requests may not use chunk extensions (a known source of
// parser disagreement); responses may, as servers rarely do and clients cope.

export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

const MAX_SIZE_LINE = 64;
const MAX_TRAILER_BYTES = 8 * 1024;
const TRAILER_FIELD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*$/;

export interface ForwardBodyOptions {
  /** Accept `;ext` after chunk sizes. Default false (requests). */
  readonly allowChunkExtensions?: boolean;
}

/** Forwards the body delimited by `framing` from `reader` to `destination`. Rejects with FramingError on bad framing. */
export async function forwardBody(
  reader: SocketReader,
  framing: BodyFraming | ResponseFraming,
  destination: Sink,
  options: ForwardBodyOptions = {},
): Promise<void> {
  switch (framing.kind) {
    case 'none':
      return;
    case 'length':
      return reader.forward(framing.length, destination);
    case 'close':
      return reader.forwardToEnd(destination);
    case 'chunked':
      return forwardChunked(reader, destination, options.allowChunkExtensions ?? false);
  }
}

async function forwardChunked(
  reader: SocketReader,
  destination: Sink,
  allowExtensions: boolean,
): Promise<void> {
  const sizeLine = allowExtensions ? /^([0-9A-Fa-f]{1,12})(;[\t\x20-\x7e]*)?$/ : /^([0-9A-Fa-f]{1,12})$/;
  for (;;) {
    const line = await readLine(reader, MAX_SIZE_LINE);
    const match = sizeLine.exec(line.text);
    if (!match) throw new FramingError(`invalid chunk size line "${line.text.slice(0, 20)}"`);
    const size = Number.parseInt(match[1]!, 16);
    write(destination, line.raw);
    if (size === 0) break;
    await reader.forward(size, destination);
    while (reader.length < 2) await reader.more();
    const end = reader.consume(2);
    if (end[0] !== 0x0d || end[1] !== 0x0a) throw new FramingError('chunk data not followed by CRLF');
    write(destination, end);
  }
  let trailerBytes = 0;
  for (;;) {
    const line = await readLine(reader, MAX_TRAILER_BYTES - trailerBytes);
    trailerBytes += line.raw.length;
    if (line.text.length > 0 && !TRAILER_FIELD.test(line.text))
      throw new FramingError('invalid trailer field');
    write(destination, line.raw);
    if (line.text.length === 0) return;
  }
}

function write(destination: Sink, bytes: Buffer): void {
  // Small framing lines: backpressure is applied on the data in between.
  destination.write(bytes);
}

/** Reads one CRLF-terminated line (bare LF or CR refused), at most `max` bytes including CRLF. */
async function readLine(reader: SocketReader, max: number): Promise<{ text: string; raw: Buffer }> {
  for (;;) {
    const buffered = reader.peek();
    const lf = buffered.indexOf(0x0a);
    if (lf >= 0) {
      if (lf + 1 > max) throw new FramingError('chunk framing line too long');
      if (lf === 0 || buffered[lf - 1] !== 0x0d) throw new FramingError('bare LF in chunk framing');
      const raw = reader.consume(lf + 1);
      const text = raw.toString('latin1', 0, lf - 1);
      if (text.includes('\r')) throw new FramingError('bare CR in chunk framing');
      return { text, raw };
    }
    if (buffered.length >= max) throw new FramingError('chunk framing line too long');
    await reader.more();
  }
}
