import { chunks, encodeData, MAX_DATA_CHUNK, STREAM_WINDOW_BYTES } from '../../core/channel/index.ts';
import type { Terminal, TerminalExit, TerminalSize } from '../broker/terminal-target.ts';

// One terminal stream of a workspace connection, as the broker sees it. Input is sent within
// the stream's credit window (the supervisor returns credit as the shell consumes it); output
// is handed to the listeners, and credit goes back once they have it. Bytes or an exit that
// arrive before a listener is attached are held for it.

/** How long a hang-up waits for the workspace's exit before the terminal is ended here. */
const CLOSE_TIMEOUT_MS = 3000;

/** Input queued beyond the window before the terminal is closed as unresponsive. */
const MAX_QUEUED_INPUT = 1024 * 1024;

export interface StreamSender {
  sendControl(
    message:
      | { t: 'resize'; stream: number; cols: number; rows: number }
      | { t: 'close'; stream: number }
      | { t: 'credit'; stream: number; bytes: number },
  ): void;
  sendData(frame: Buffer): void;
}

export class ChannelTerminal implements Terminal {
  readonly stream: number;
  readonly #sender: StreamSender;
  #sendWindow = STREAM_WINDOW_BYTES;
  /** What the supervisor may still send before it needs credit. */
  #receiveWindow = STREAM_WINDOW_BYTES;
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #dataListeners: ((data: Uint8Array) => void)[] = [];
  #exitListeners: ((exit: TerminalExit) => void)[] = [];
  #heldData: Buffer[] = [];
  #exit: TerminalExit | undefined;
  #closeSent = false;

  constructor(stream: number, sender: StreamSender) {
    this.stream = stream;
    this.#sender = sender;
  }

  get ended(): boolean {
    return this.#exit !== undefined;
  }

  write(data: Uint8Array | string): void {
    if (this.#exit || this.#closeSent) return;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    if (bytes.byteLength === 0) return;
    this.#queue.push(bytes);
    this.#queued += bytes.byteLength;
    if (this.#queued > MAX_QUEUED_INPUT) {
      this.close();
      return;
    }
    this.#flush();
  }

  resize(size: TerminalSize): void {
    if (this.#exit || this.#closeSent) return;
    this.#sender.sendControl({ t: 'resize', stream: this.stream, cols: size.cols, rows: size.rows });
  }

  close(): void {
    if (this.#exit || this.#closeSent) return;
    this.#closeSent = true;
    this.#queue.length = 0;
    this.#sender.sendControl({ t: 'close', stream: this.stream });
    // A workspace that does not answer must not keep the broker's terminal open.
    setTimeout(() => this.finish({ exitCode: null, signal: 'SIGHUP' }), CLOSE_TIMEOUT_MS).unref();
  }

  onData(listener: (data: Uint8Array) => void): void {
    this.#dataListeners.push(listener);
    const held = this.#heldData;
    this.#heldData = [];
    for (const data of held) this.#deliver(data);
  }

  onExit(listener: (exit: TerminalExit) => void): void {
    this.#exitListeners.push(listener);
    if (this.#exit && this.#heldData.length === 0) listener(this.#exit);
  }

  /** Credit from the supervisor: more input may go. */
  credit(bytes: number): void {
    this.#sendWindow = Math.min(this.#sendWindow + bytes, STREAM_WINDOW_BYTES);
    this.#flush();
  }

  /** Output from the supervisor; false when it overran its window (a protocol violation). */
  receive(data: Buffer): boolean {
    this.#receiveWindow -= data.byteLength;
    if (this.#receiveWindow < 0) return false;
    if (this.#exit) return true;
    if (this.#dataListeners.length === 0) this.#heldData.push(data);
    else this.#deliver(data);
    return true;
  }

  /** The shell ended (or the connection did). */
  finish(exit: TerminalExit): void {
    if (this.#exit) return;
    this.#exit = exit;
    this.#queue.length = 0;
    if (this.#dataListeners.length === 0) this.#heldData = [];
    for (const listener of this.#exitListeners) listener(exit);
  }

  #deliver(data: Buffer): void {
    for (const listener of this.#dataListeners) listener(data);
    this.#receiveWindow += data.byteLength;
    this.#sender.sendControl({ t: 'credit', stream: this.stream, bytes: data.byteLength });
  }

  #flush(): void {
    while (this.#queue.length > 0 && this.#sendWindow > 0) {
      const head = this.#queue[0] as Buffer;
      const size = Math.min(head.byteLength, this.#sendWindow, MAX_DATA_CHUNK);
      const piece = head.subarray(0, size);
      if (size === head.byteLength) this.#queue.shift();
      else this.#queue[0] = head.subarray(size);
      this.#queued -= size;
      this.#sendWindow -= size;
      for (const chunk of chunks(piece)) this.#sender.sendData(encodeData(this.stream, chunk));
    }
  }
}
