import type { AuditBatchMessage, AuditReply, AuditSpool, AuditTransport } from '../../audit/index.ts';
import {
  type AuditBatchChannelMessage,
  type AuditReplyChannelMessage,
  MAX_FRAME_BYTES,
} from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';

// The workspace spool's road to the central store: each batch goes over the channel as
// `audit_batch` and the control plane answers `audit_ack` or `audit_nack`. One batch is in flight
// at a time (the channel allows no more), so a reply always belongs to the batch waiting. A
// batch whose answer does not come, or whose connection drops, rejects: the spool sends it
// again later and the store skips what it already holds.

const log = createLogger('audit-shipping');

/** How long a batch waits for its answer before the connection is presumed stuck. */
const REPLY_TIMEOUT_MS = 30_000;
/** How often the spool is shipped while the channel is up. */
const SHIP_INTERVAL_MS = 200;
const MAX_BACKOFF_MS = 10_000;

export interface ChannelAuditTransportOptions {
  /** Sends the message on the channel; false when it is not connected. */
  readonly send: (message: AuditBatchChannelMessage) => boolean;
  /** Called when an answer does not come in time (drop the connection: its state is unknown). */
  readonly onTimeout?: () => void;
  readonly timeoutMs?: number;
}

interface Waiting {
  readonly source: string;
  readonly resolve: (reply: AuditReply) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

function shipError(message: string): PaddockError {
  return new PaddockError('PDK_AUDIT_SHIP', message);
}

export class ChannelAuditTransport implements AuditTransport {
  readonly #options: ChannelAuditTransportOptions;
  #waiting: Waiting | undefined;

  constructor(options: ChannelAuditTransportOptions) {
    this.#options = options;
  }

  send(batch: AuditBatchMessage): Promise<AuditReply> {
    if (this.#waiting) return Promise.reject(shipError('an audit batch is already waiting for its answer'));
    const message: AuditBatchChannelMessage = {
      t: 'audit_batch',
      source: batch.source,
      events: batch.events as AuditBatchChannelMessage['events'],
    };
    const size = Buffer.byteLength(JSON.stringify(message));
    if (size > MAX_FRAME_BYTES)
      return Promise.reject(
        shipError(`audit batch of ${size} bytes exceeds the channel's ${MAX_FRAME_BYTES}-byte frame`),
      );
    return new Promise<AuditReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = undefined;
        reject(shipError('the control plane did not answer the audit batch in time'));
        this.#options.onTimeout?.();
      }, this.#options.timeoutMs ?? REPLY_TIMEOUT_MS);
      this.#waiting = { source: batch.source, resolve, reject, timer };
      if (!this.#options.send(message)) this.#fail('the channel is not connected');
    });
  }

  /** The control plane's answer; one that nothing waits for (late, after a timeout) is dropped. */
  onReply(message: AuditReplyChannelMessage): void {
    const waiting = this.#waiting;
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.#waiting = undefined;
    if (message.source !== waiting.source) {
      waiting.reject(shipError(`audit reply is for source ${message.source}, not ${waiting.source}`));
      return;
    }
    waiting.resolve(
      message.t === 'audit_ack'
        ? { type: 'audit.ack', source: message.source, uptoSeq: message.uptoSeq, hash: message.hash }
        : { type: 'audit.nack', source: message.source, code: message.code, message: message.message },
    );
  }

  /** The connection is gone: the batch's answer will not come. */
  onDisconnected(): void {
    this.#fail('the channel closed before the audit batch was answered');
  }

  #fail(why: string): void {
    const waiting = this.#waiting;
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.#waiting = undefined;
    waiting.reject(shipError(why));
  }
}

export interface AuditShipping {
  /** Ships now (on connect) instead of at the next tick. */
  kick(): void;
  /** Stops the timer and waits for a shipment in flight. */
  stop(): Promise<void>;
}

/**
 * Ships `spool` through `transport` every 200 ms while `connected()`, and at once on kick();
 * after a failure it waits longer each time (0.2 s doubling to 10 s) until a shipment succeeds.
 */
export function startAuditShipping(options: {
  readonly spool: AuditSpool;
  readonly transport: AuditTransport;
  readonly connected: () => boolean;
  readonly intervalMs?: number;
}): AuditShipping {
  const interval = options.intervalMs ?? SHIP_INTERVAL_MS;
  let delay = interval;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(tick, ms);
  };
  const tick = () => {
    if (running || stopped) return;
    if (!options.connected()) return schedule(interval);
    running = options.spool
      .ship(options.transport)
      .then(
        () => {
          delay = interval;
        },
        (error: Error) => {
          delay = Math.min(delay * 2, MAX_BACKOFF_MS);
          log.warn(
            { error: error.message, retryMs: delay },
            'audit shipping failed; the spool keeps the events',
          );
        },
      )
      .finally(() => {
        running = undefined;
        schedule(delay);
      });
  };
  schedule(0);
  return {
    kick() {
      delay = interval;
      if (!running) schedule(0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
