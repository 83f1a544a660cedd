import { createPublicKey } from 'node:crypto';
import type { WebSocket } from 'ws';
import {
  CLOSE,
  type ControlPlaneMessage,
  decodeData,
  decodeMessage,
  encodeMessage,
  keyId,
  MAX_PENDING_REVIEWS,
  MAX_STREAMS,
  type SupervisorMessage,
  supervisorMessage,
} from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { GateDecision, HeldCall, ReviewGate } from '../../policy/index.ts';
import { receiveAuditBatch } from '../audit/ingest.ts';
import type { Terminal, TerminalOpenOptions } from '../broker/terminal-target.ts';
import type { ReleaseEndpoint } from '../releases/release-endpoint.ts';
import type { Store } from '../store/store.ts';
import { ChannelTerminal } from './channel-terminal.ts';
import type { IdentityRegistry } from './identity-registry.ts';

// One authenticated supervisor connection. Nothing is accepted before `hello`, and `hello` must
// name the workspace the credential proved; then terminals can be opened, and the control
// plane can rotate the identity. Any malformed frame closes the connection (fail closed).

const log = createLogger('channel');

const HELLO_TIMEOUT_MS = 10_000;
const OPEN_TIMEOUT_MS = 30_000;
const ROTATE_TIMEOUT_MS = 10_000;

export interface ConnectionOptions {
  readonly socket: WebSocket;
  readonly workspaceId: string;
  readonly kid: string;
  readonly registry: IdentityRegistry;
  readonly heartbeatMs: number;
  /** The review queue held calls go to (the control plane's one ReviewQueue). Default none: every review request is refused. */
  readonly reviews?: ReviewGate;
  /** Serves policy release files and records attestations. Default none: every release file is missing. */
  readonly releases?: Pick<ReleaseEndpoint, 'serve' | 'attest'>;
  /** The central audit store the workspace's spool ships to. Default none: every audit batch is refused (nack). */
  readonly auditStore?: Store;
  readonly onReady: (connection: WorkspaceConnection) => void;
  readonly onClosed: (connection: WorkspaceConnection, code: number, reason: string) => void;
}

interface PendingOpen {
  readonly terminal: ChannelTerminal;
  readonly resolve: (terminal: Terminal) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class WorkspaceConnection {
  readonly workspaceId: string;
  #kid: string;
  supervisorVersion: string | undefined;
  /** The SSH host key the supervisor announced in `hello` (authenticated by the channel identity). */
  sshHostKey: string | undefined;
  readonly #socket: WebSocket;
  readonly #options: ConnectionOptions;
  readonly #streams = new Map<number, ChannelTerminal>();
  readonly #pending = new Map<number, PendingOpen>();
  /** Streams whose open timed out here: a late answer is hung up, not a protocol violation. */
  readonly #abandoned = new Set<number>();
  #nextStream = 1;
  #ready = false;
  #closed = false;
  #lastSeen = Date.now();
  #timers: NodeJS.Timeout[] = [];
  /** Users this connection opened terminals for: the only requesters its held calls may name. */
  readonly #terminalUsers = new Set<string>();
  /** Review requests waiting for the queue's answer. */
  readonly #reviewsInFlight = new Set<number>();
  /** An audit batch is being stored: the supervisor must wait for its answer before the next. */
  #auditInFlight = false;
  #rotation: { resolve: (message: Extract<SupervisorMessage, { t: 'rotate_proposal' }>) => void } | undefined;

  constructor(options: ConnectionOptions) {
    this.workspaceId = options.workspaceId;
    this.#kid = options.kid;
    this.#socket = options.socket;
    this.#options = options;
    const helloTimer = setTimeout(() => {
      if (!this.#ready) this.close(CLOSE.protocol, 'no hello');
    }, HELLO_TIMEOUT_MS);
    const heartbeat = setInterval(() => {
      if (Date.now() - this.#lastSeen > 3 * options.heartbeatMs)
        this.close(CLOSE.heartbeat, 'heartbeat missed');
    }, options.heartbeatMs);
    this.#timers.push(helloTimer, heartbeat);
    for (const timer of this.#timers) timer.unref();
    this.#socket.on('message', (data, isBinary) => {
      try {
        this.#lastSeen = Date.now();
        if (isBinary) this.#onData(Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]));
        else this.#onMessage(decodeMessage(supervisorMessage, data.toString()));
      } catch (error) {
        log.warn(
          { workspace: this.workspaceId, error: (error as Error).message },
          'channel protocol violation',
        );
        this.close(CLOSE.protocol, 'protocol violation');
      }
    });
    this.#socket.on('close', (code, reason) => this.#onClosed(code, reason.toString()));
    this.#socket.on('error', (error) => {
      log.warn({ workspace: this.workspaceId, error: error.message }, 'channel socket error');
    });
  }

  get kid(): string {
    return this.#kid;
  }

  get ready(): boolean {
    return this.#ready && !this.#closed;
  }

  /** Opens a terminal stream; rejects with PDK_CHANNEL_TERMINAL when the workspace refuses. */
  open(options: TerminalOpenOptions): Promise<Terminal> {
    if (!this.ready)
      return Promise.reject(
        new PaddockError('PDK_CHANNEL_NOT_CONNECTED', `workspace ${this.workspaceId} is not connected`),
      );
    const live = [...this.#streams.values()].filter((terminal) => !terminal.ended).length;
    if (live + this.#pending.size >= MAX_STREAMS)
      return Promise.reject(
        new PaddockError(
          'PDK_CHANNEL_TERMINAL',
          `workspace ${this.workspaceId} already has ${MAX_STREAMS} terminals`,
        ),
      );
    const stream = this.#nextStream++;
    const terminal = new ChannelTerminal(stream, {
      sendControl: (message) => this.#send(message),
      sendData: (frame) => this.#sendBinary(frame),
    });
    return new Promise<Terminal>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(stream);
        this.#abandoned.add(stream);
        reject(
          new PaddockError(
            'PDK_CHANNEL_TERMINAL',
            `workspace ${this.workspaceId} did not open the terminal in time`,
          ),
        );
        this.#send({ t: 'close', stream });
      }, OPEN_TIMEOUT_MS);
      this.#pending.set(stream, { terminal, resolve, reject, timer });
      this.#terminalUsers.add(options.userId);
      this.#send({
        t: 'open',
        stream,
        cols: options.cols,
        rows: options.rows,
        mode: options.mode,
        userId: options.userId,
        attachId: options.attachId,
      });
    });
  }

  /**
   * Has the supervisor make a new key pair and swaps the registry over to it: once this
   * resolves (to the new kid) the old key no longer authenticates.
   */
  async rotate(): Promise<string> {
    if (!this.ready)
      throw new PaddockError('PDK_CHANNEL_NOT_CONNECTED', `workspace ${this.workspaceId} is not connected`);
    if (this.#rotation)
      throw new PaddockError('PDK_CHANNEL_PROTOCOL', `a rotation of ${this.workspaceId} is under way`);
    const proposal = await new Promise<Extract<SupervisorMessage, { t: 'rotate_proposal' }>>(
      (resolve, reject) => {
        const timer = setTimeout(() => {
          this.#rotation = undefined;
          reject(
            new PaddockError(
              'PDK_CHANNEL_NOT_CONNECTED',
              `workspace ${this.workspaceId} did not answer the rotation`,
            ),
          );
        }, ROTATE_TIMEOUT_MS);
        this.#rotation = {
          resolve: (message) => {
            clearTimeout(timer);
            this.#rotation = undefined;
            resolve(message);
          },
        };
        this.#send({ t: 'rotate' });
      },
    );
    let kid: string;
    try {
      kid = await keyId(createPublicKey(proposal.publicKey));
    } catch {
      this.close(CLOSE.protocol, 'bad rotation key');
      throw new PaddockError(
        'PDK_CHANNEL_PROTOCOL',
        `workspace ${this.workspaceId} proposed an unreadable key`,
      );
    }
    if (kid !== proposal.kid) {
      this.close(CLOSE.protocol, 'bad rotation key');
      throw new PaddockError(
        'PDK_CHANNEL_PROTOCOL',
        `workspace ${this.workspaceId} proposed a key whose id does not match`,
      );
    }
    await this.#options.registry.rotate(this.workspaceId, {
      workspaceId: this.workspaceId,
      kid,
      publicKeyPem: proposal.publicKey,
    });
    this.#kid = kid;
    this.#send({ t: 'rotate_commit', kid });
    return kid;
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#socket.close(code, reason);
    // A peer that never completes the closing handshake is cut off.
    setTimeout(() => this.#socket.terminate(), 2000).unref();
    this.#onClosed(code, reason);
  }

  #onClosed(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    for (const [stream, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(
        new PaddockError('PDK_CHANNEL_NOT_CONNECTED', `workspace ${this.workspaceId} disconnected`),
      );
      this.#pending.delete(stream);
    }
    for (const terminal of this.#streams.values()) terminal.finish({ exitCode: null, signal: 'SIGHUP' });
    this.#streams.clear();
    this.#options.onClosed(this, code, reason);
  }

  #onMessage(message: SupervisorMessage): void {
    if (!this.#ready) {
      if (message.t !== 'hello') throw new PaddockError('PDK_CHANNEL_PROTOCOL', `${message.t} before hello`);
      if (message.workspaceId !== this.workspaceId) {
        log.warn(
          { workspace: this.workspaceId, claimed: message.workspaceId },
          'supervisor claimed another workspace',
        );
        throw new PaddockError('PDK_CHANNEL_PROTOCOL', 'hello names another workspace');
      }
      this.supervisorVersion = message.supervisorVersion;
      this.sshHostKey = message.sshHostKey;
      this.#ready = true;
      this.#send({ t: 'welcome', heartbeatMs: this.#options.heartbeatMs });
      this.#options.onReady(this);
      return;
    }
    switch (message.t) {
      case 'hello':
        throw new PaddockError('PDK_CHANNEL_PROTOCOL', 'second hello');
      case 'heartbeat':
        return;
      case 'opened': {
        if (this.#abandoned.delete(message.stream)) {
          this.#send({ t: 'close', stream: message.stream });
          return;
        }
        const pending = this.#takePending(message.stream);
        this.#streams.set(message.stream, pending.terminal);
        pending.resolve(pending.terminal);
        return;
      }
      case 'open_failed': {
        if (this.#abandoned.delete(message.stream)) return;
        const pending = this.#takePending(message.stream);
        pending.reject(
          new PaddockError('PDK_CHANNEL_TERMINAL', `workspace ${this.workspaceId}: ${message.message}`),
        );
        return;
      }
      case 'exit': {
        const terminal = this.#streams.get(message.stream);
        if (!terminal) {
          this.#checkKnown(message.stream);
          return;
        }
        this.#streams.delete(message.stream);
        terminal.finish({ exitCode: message.exitCode, signal: message.signal });
        return;
      }
      case 'credit': {
        const terminal = this.#streams.get(message.stream);
        if (!terminal) {
          this.#checkKnown(message.stream);
          return;
        }
        terminal.credit(message.bytes);
        return;
      }
      case 'rotate_proposal':
        if (!this.#rotation)
          throw new PaddockError('PDK_CHANNEL_PROTOCOL', 'rotation proposal nobody asked for');
        this.#rotation.resolve(message);
        return;
      case 'review_request':
        if (this.#reviewsInFlight.has(message.requestId))
          throw new PaddockError('PDK_CHANNEL_PROTOCOL', `review request ${message.requestId} is in flight`);
        void this.#review(message);
        return;
      case 'release_fetch': {
        const answers = this.#options.releases?.serve(message) ?? [
          { t: 'release_missing', requestId: message.requestId } as const,
        ];
        for (const answer of answers) this.#send(answer);
        return;
      }
      case 'bundle_attest':
        // Recorded under the id this connection authenticated (the message names none); never rejects.
        void this.#options.releases?.attest(this.workspaceId, message.attestation);
        return;
      case 'audit_batch':
        if (this.#auditInFlight)
          throw new PaddockError('PDK_CHANNEL_PROTOCOL', 'audit batch before the previous one was answered');
        this.#auditInFlight = true;
        void this.#storeAudit(message).finally(() => {
          this.#auditInFlight = false;
        });
        return;
    }
  }

  /** Tells the supervisor a channel has a new release; false when not connected. */
  notifyRelease(channel: string, version: number): boolean {
    if (!this.ready) return false;
    this.#send({ t: 'release_notify', channel, version });
    return true;
  }

  /**
   * Holds the call in the review queue and answers. The call is refused (review_failed) unless
   * it is this workspace's and names a user this connection opened a terminal for: the
   * supervisor cannot file reviews for another workspace or in another person's name.
   */
  async #review(message: Extract<SupervisorMessage, { t: 'review_request' }>): Promise<void> {
    const { requestId, call } = message;
    const refuse = (why: string) =>
      this.#send({ t: 'review_failed', requestId, message: why.slice(0, 1000) });
    const gate = this.#options.reviews;
    if (!gate) return refuse('this control plane has no review queue: the call is refused');
    if (call.workspaceId !== this.workspaceId) {
      log.warn(
        { workspace: this.workspaceId, claimed: call.workspaceId },
        'supervisor filed a review for another workspace',
      );
      return refuse(`workspace ${this.workspaceId} cannot file reviews for another workspace`);
    }
    if (!this.#terminalUsers.has(call.requester.id)) {
      log.warn(
        { workspace: this.workspaceId, requester: call.requester.id },
        'supervisor filed a review for a user without a terminal',
      );
      return refuse(`no terminal of ${call.requester.id} was opened in workspace ${this.workspaceId}`);
    }
    if (this.#reviewsInFlight.size >= MAX_PENDING_REVIEWS)
      return refuse(
        `workspace ${this.workspaceId} has ${MAX_PENDING_REVIEWS} reviews in flight: retry shortly`,
      );
    this.#reviewsInFlight.add(requestId);
    // The supervisor audits the enforcement point's own decision event: the steps go back to it.
    const steps: Omit<GateDecision, 'correlationUid'>[] = [];
    const held: HeldCall = {
      ...call,
      workspaceId: this.workspaceId,
      decisionEvent: ({ correlationUid: _id, ...step }) => {
        steps.push(step);
        return undefined;
      },
    };
    try {
      const answer = await gate.request(held);
      this.#send({ t: 'review_answer', requestId, answer, steps: steps.slice(-4) });
    } catch (error) {
      log.warn({ workspace: this.workspaceId, error: (error as Error).message }, 'review request failed');
      const code = error instanceof PaddockError ? `${error.code}: ` : '';
      refuse(`${code}${(error as Error).message}`);
    } finally {
      this.#reviewsInFlight.delete(requestId);
    }
  }

  /**
   * Stores a batch of the workspace's spool and answers. The chain written is always the
   * connection's authenticated workspace: a batch naming another source is refused
   * (receiveAuditBatch), so a supervisor can never write, or fork, another workspace's chain.
   */
  async #storeAudit(message: Extract<SupervisorMessage, { t: 'audit_batch' }>): Promise<void> {
    const store = this.#options.auditStore;
    if (!store) {
      this.#send({
        t: 'audit_nack',
        source: message.source,
        code: 'PDK_AUDIT_SHIP',
        message: 'this control plane has no audit store: the spool keeps the events',
      });
      return;
    }
    const reply = await receiveAuditBatch(
      store,
      { type: 'audit.batch', source: message.source, events: message.events },
      this.workspaceId,
    );
    if (reply.type === 'audit.ack')
      this.#send({ t: 'audit_ack', source: reply.source, uptoSeq: reply.uptoSeq, hash: reply.hash });
    else {
      log.warn(
        { workspace: this.workspaceId, code: reply.code, error: reply.message },
        'audit batch refused',
      );
      this.#send({
        t: 'audit_nack',
        source: reply.source.slice(0, 200),
        code: reply.code.slice(0, 64),
        message: reply.message.slice(0, 1000) || 'refused',
      });
    }
  }

  #onData(frame: Buffer): void {
    if (!this.#ready) throw new PaddockError('PDK_CHANNEL_PROTOCOL', 'data before hello');
    const { stream, data } = decodeData(frame);
    const terminal = this.#streams.get(stream);
    if (!terminal) {
      this.#checkKnown(stream);
      return;
    }
    if (!terminal.receive(data))
      throw new PaddockError('PDK_CHANNEL_PROTOCOL', `stream ${stream} overran its window`);
  }

  #takePending(stream: number): PendingOpen {
    const pending = this.#pending.get(stream);
    if (!pending)
      throw new PaddockError('PDK_CHANNEL_PROTOCOL', `answer for stream ${stream} that is not opening`);
    clearTimeout(pending.timer);
    this.#pending.delete(stream);
    return pending;
  }

  /** A frame for a stream that ended is late, not wrong; one for a stream never opened is. */
  #checkKnown(stream: number): void {
    if (stream >= this.#nextStream)
      throw new PaddockError('PDK_CHANNEL_PROTOCOL', `stream ${stream} was never opened`);
  }

  #send(message: ControlPlaneMessage): void {
    if (this.#closed) return;
    this.#socket.send(encodeMessage(message));
  }

  #sendBinary(frame: Buffer): void {
    if (this.#closed) return;
    this.#socket.send(frame, { binary: true });
  }
}
