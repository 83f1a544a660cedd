import { existsSync, renameSync, rmSync } from 'node:fs';
import WebSocket from 'ws';
import {
  CLOSE,
  type AuditBatchChannelMessage,
  type AuditReplyChannelMessage,
  type ControlPlaneMessage,
  controlPlaneMessage,
  decodeData,
  decodeMessage,
  encodeData,
  encodeMessage,
  generateIdentity,
  MAX_DATA_CHUNK,
  MAX_FRAME_BYTES,
  readIdentityFile,
  type SupervisorMessage,
  signChannelCredential,
  STREAM_WINDOW_BYTES,
  type WorkspaceIdentity,
  writeIdentityFile,
} from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import { PRODUCT_VERSION } from '../../core/version.ts';
import type { WorkspaceTerminal } from './pty-terminal.ts';

// The supervisor's end of the workspace channel: it dials the control plane (nothing dials
// into a workspace), proves its identity with a fresh one-connection credential, says hello,
// keeps a heartbeat, and serves the terminal streams the control plane opens. A lost
// connection is redialled with backoff; a revoked workspace is not.

const log = createLogger('channel-client');

const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 10_000;

export interface TerminalRequest {
  readonly cols: number;
  readonly rows: number;
  readonly mode: 'shell' | 'ssh';
  readonly userId: string;
  readonly attachId: string;
}

export interface ChannelClientOptions {
  readonly url: string;
  readonly workspaceId: string;
  /** The identity file; a rotation writes `FILE.next` first, then renames it over FILE. */
  readonly identityFile: string;
  /** The workspace's SSH host public key (`ssh-ed25519 …`), announced in `hello`; none when SSH is unavailable. */
  readonly sshHostKey?: string;
  readonly openTerminal: (request: TerminalRequest) => Promise<WorkspaceTerminal>;
  readonly onConnected?: () => void;
  /** The connection is gone (it may be redialled): answers in flight will not come. */
  readonly onDisconnected?: () => void;
  readonly onRevoked?: () => void;
  /** The control plane's answers to review requests (ChannelReviewGate). */
  readonly onReviewAnswer?: (message: ReviewAnswerMessage) => void;
  /** Release answers and notifications (the bundle updater's ChannelFetcher and its trigger). */
  readonly onRelease?: (message: ReleaseMessage) => void;
  /** The control plane's answers to audit batches (ChannelAuditTransport). */
  readonly onAuditReply?: (message: AuditReplyChannelMessage) => void;
}

export type ReleaseMessage = Extract<
  ControlPlaneMessage,
  { t: 'release_chunk' | 'release_missing' | 'release_notify' }
>;

export type ReviewAnswerMessage = Extract<ControlPlaneMessage, { t: 'review_answer' | 'review_failed' }>;

interface Stream {
  readonly id: number;
  readonly terminal: WorkspaceTerminal;
  sendWindow: number;
  receiveWindow: number;
  /** Output read from the shell beyond the window, sent as credit returns. */
  backlog: Buffer[];
  paused: boolean;
  /** The shell's end, sent once the backlog is out (output never trails the exit). */
  end?: { exitCode: number | null; signal: string | null };
}

export class ChannelClient {
  readonly #options: ChannelClientOptions;
  #socket: WebSocket | undefined;
  #streams = new Map<number, Stream>();
  /** Streams the control plane hung up while they were still opening. */
  readonly #cancelled = new Set<number>();
  #stopped = false;
  #backoff = MIN_BACKOFF_MS;
  #heartbeat: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #connected = false;

  constructor(options: ChannelClientOptions) {
    this.#options = options;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Sends a review request; false (nothing sent) while the channel is not connected. */
  sendReviewRequest(message: Extract<SupervisorMessage, { t: 'review_request' }>): boolean {
    if (!this.#connected || this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(encodeMessage(message));
    return true;
  }

  /** Sends a release fetch or an attestation; false (nothing sent) while the channel is not connected. */
  sendRelease(message: Extract<SupervisorMessage, { t: 'release_fetch' | 'bundle_attest' }>): boolean {
    if (!this.#connected || this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(encodeMessage(message));
    return true;
  }

  /** Sends a batch of the audit spool; false (nothing sent) while the channel is not connected. */
  sendAuditBatch(message: AuditBatchChannelMessage): boolean {
    if (!this.#connected || this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(encodeMessage(message));
    return true;
  }

  /** Drops the connection (it is redialled), e.g. when an answer never came and the peer's state is unknown. */
  reconnect(reason: string): void {
    this.#socket?.close(1000, reason.slice(0, 100));
  }

  start(): void {
    this.#dial();
  }

  /** Closes the connection and every terminal; no redial. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#socket?.close(1000, 'supervisor stopping');
    this.#endStreams();
  }

  get #nextFile(): string {
    return `${this.#options.identityFile}.next`;
  }

  /** The identity to present: a rotation's new key first if one is pending, then the current one. */
  #identities(): WorkspaceIdentity[] {
    const found: WorkspaceIdentity[] = [];
    if (existsSync(this.#nextFile)) {
      try {
        found.push(readIdentityFile(this.#nextFile));
      } catch {}
    }
    found.push(readIdentityFile(this.#options.identityFile));
    return found.filter((identity) => identity.workspaceId === this.#options.workspaceId);
  }

  async #dial(attempt = 0): Promise<void> {
    if (this.#stopped) return;
    let identities: WorkspaceIdentity[];
    try {
      identities = this.#identities();
    } catch (error) {
      log.error({ error: (error as Error).message }, 'no usable identity');
      return this.#redial();
    }
    const identity = identities[attempt % identities.length] as WorkspaceIdentity;
    const token = await signChannelCredential(identity);
    const socket = new WebSocket(this.#options.url, {
      headers: { authorization: `Bearer ${token}` },
      maxPayload: MAX_FRAME_BYTES,
      handshakeTimeout: 10_000,
    });
    this.#socket = socket;
    let opened = false;
    socket.on('unexpected-response', (_request, response) => {
      log.warn({ status: response.statusCode, kid: identity.kid }, 'channel refused the identity');
      socket.terminate();
      // A pending rotation's key may be the one the control plane holds now: try the next.
      if (attempt + 1 < identities.length) {
        this.#socket = undefined;
        void this.#dial(attempt + 1);
      }
    });
    socket.on('open', () => {
      opened = true;
      this.#backoff = MIN_BACKOFF_MS;
      if (identity.kid !== identities[identities.length - 1]?.kid) this.#adoptNext();
      this.#send({
        t: 'hello',
        workspaceId: this.#options.workspaceId,
        supervisorVersion: PRODUCT_VERSION,
        protocol: 1,
        ...(this.#options.sshHostKey ? { sshHostKey: this.#options.sshHostKey } : {}),
      });
    });
    socket.on('message', (data, isBinary) => {
      try {
        if (isBinary) this.#onData(Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]));
        else this.#onMessage(decodeMessage(controlPlaneMessage, data.toString()));
      } catch (error) {
        log.warn({ error: (error as Error).message }, 'control plane broke the channel protocol');
        socket.close(CLOSE.protocol, 'protocol violation');
      }
    });
    socket.on('error', (error) => log.debug({ error: error.message }, 'channel socket error'));
    socket.on('close', (code) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#connected = false;
      clearInterval(this.#heartbeat);
      this.#endStreams();
      this.#options.onDisconnected?.();
      if (code === CLOSE.revoked) {
        log.warn({}, 'workspace revoked: the channel stays closed');
        this.#stopped = true;
        this.#options.onRevoked?.();
        return;
      }
      if (opened) log.info({ code }, 'channel closed; redialling');
      this.#redial();
    });
  }

  #redial(): void {
    if (this.#stopped) return;
    const delay = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF_MS);
    this.#retry = setTimeout(() => void this.#dial(), delay);
  }

  /** The control plane accepted the pending rotation's key: it becomes the identity. */
  #adoptNext(): void {
    if (existsSync(this.#nextFile)) renameSync(this.#nextFile, this.#options.identityFile);
  }

  #onMessage(message: ControlPlaneMessage): void {
    switch (message.t) {
      case 'welcome':
        this.#connected = true;
        clearInterval(this.#heartbeat);
        this.#heartbeat = setInterval(() => this.#send({ t: 'heartbeat' }), message.heartbeatMs);
        this.#heartbeat.unref();
        log.info({ workspace: this.#options.workspaceId }, 'channel connected');
        this.#options.onConnected?.();
        return;
      case 'open':
        void this.#open(message);
        return;
      case 'resize':
        this.#streams.get(message.stream)?.terminal.resize(message.cols, message.rows);
        return;
      case 'close': {
        const stream = this.#streams.get(message.stream);
        if (stream) stream.terminal.close();
        else this.#cancelled.add(message.stream);
        return;
      }
      case 'credit': {
        const stream = this.#streams.get(message.stream);
        if (!stream) return;
        stream.sendWindow = Math.min(stream.sendWindow + message.bytes, STREAM_WINDOW_BYTES);
        this.#flush(stream);
        if (stream.paused && stream.backlog.length === 0 && stream.sendWindow > 0) {
          stream.paused = false;
          stream.terminal.resume();
        }
        return;
      }
      case 'rotate':
        void this.#proposeRotation();
        return;
      case 'rotate_commit':
        this.#commitRotation(message.kid);
        return;
      case 'review_answer':
      case 'review_failed':
        this.#options.onReviewAnswer?.(message);
        return;
      case 'release_chunk':
      case 'release_missing':
      case 'release_notify':
        this.#options.onRelease?.(message);
        return;
      case 'audit_ack':
      case 'audit_nack':
        this.#options.onAuditReply?.(message);
        return;
    }
  }

  async #open(request: Extract<ControlPlaneMessage, { t: 'open' }>): Promise<void> {
    if (this.#streams.has(request.stream))
      return this.#send({
        t: 'open_failed',
        stream: request.stream,
        message: `stream ${request.stream} is open`,
      });
    let terminal: WorkspaceTerminal;
    try {
      terminal = await this.#options.openTerminal(request);
    } catch (error) {
      const message =
        error instanceof PaddockError ? `${error.code}: ${error.message}` : 'terminal could not start';
      log.warn({ error: (error as Error).message, attach: request.attachId }, 'terminal failed to open');
      return this.#send({ t: 'open_failed', stream: request.stream, message: message.slice(0, 1000) });
    }
    if (!this.#connected || this.#cancelled.delete(request.stream)) {
      terminal.close();
      return;
    }
    const stream: Stream = {
      id: request.stream,
      terminal,
      sendWindow: STREAM_WINDOW_BYTES,
      receiveWindow: STREAM_WINDOW_BYTES,
      backlog: [],
      paused: false,
    };
    this.#streams.set(request.stream, stream);
    this.#send({ t: 'opened', stream: request.stream });
    terminal.onData((data) => {
      stream.backlog.push(data);
      this.#flush(stream);
      // Out of credit: stop reading the shell until the control plane has taken its output.
      if (stream.backlog.length > 0 && !stream.paused) {
        stream.paused = true;
        terminal.pause();
      }
    });
    terminal.onExit((end) => {
      if (this.#streams.get(request.stream) !== stream) return;
      stream.end = end;
      this.#flush(stream);
    });
  }

  /** Sends as much of the stream's backlog as its window allows. */
  #flush(stream: Stream): void {
    while (stream.backlog.length > 0 && stream.sendWindow > 0) {
      const head = stream.backlog[0] as Buffer;
      const size = Math.min(head.byteLength, stream.sendWindow, MAX_DATA_CHUNK);
      if (size === head.byteLength) stream.backlog.shift();
      else stream.backlog[0] = head.subarray(size);
      stream.sendWindow -= size;
      this.#sendBinary(encodeData(stream.id, head.subarray(0, size)));
    }
    if (stream.end && stream.backlog.length === 0 && this.#streams.get(stream.id) === stream) {
      this.#streams.delete(stream.id);
      this.#send({ t: 'exit', stream: stream.id, exitCode: stream.end.exitCode, signal: stream.end.signal });
    }
  }

  #onData(frame: Buffer): void {
    const { stream: id, data } = decodeData(frame);
    const stream = this.#streams.get(id);
    if (!stream) return;
    stream.receiveWindow -= data.byteLength;
    if (stream.receiveWindow < 0)
      throw new PaddockError('PDK_CHANNEL_PROTOCOL', `stream ${id} overran its window`);
    stream.terminal.write(data);
    stream.receiveWindow += data.byteLength;
    this.#send({ t: 'credit', stream: id, bytes: data.byteLength });
  }

  /** A new key pair, kept as FILE.next until the control plane commits it. */
  async #proposeRotation(): Promise<void> {
    const { identity, publicIdentity } = await generateIdentity(this.#options.workspaceId);
    writeIdentityFile(this.#nextFile, identity);
    this.#send({ t: 'rotate_proposal', kid: publicIdentity.kid, publicKey: publicIdentity.publicKeyPem });
  }

  #commitRotation(kid: string): void {
    try {
      const next = readIdentityFile(this.#nextFile);
      if (next.kid !== kid) throw new Error(`committed ${kid}, proposed ${next.kid}`);
      renameSync(this.#nextFile, this.#options.identityFile);
      log.info({ kid }, 'channel identity rotated');
    } catch (error) {
      log.error({ error: (error as Error).message }, 'rotation commit does not match the proposal');
      rmSync(this.#nextFile, { force: true });
    }
  }

  #endStreams(): void {
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    for (const stream of streams) stream.terminal.close();
  }

  #send(message: SupervisorMessage): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(encodeMessage(message));
  }

  #sendBinary(frame: Buffer): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(frame, { binary: true });
  }
}
