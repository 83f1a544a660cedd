import type { Logger } from '../../core/log.ts';
import type { OcsfEvent } from '../events/types.ts';
import type { DeliverySettings } from './config.ts';
import type { DeadLetterFile } from './dead-letter.ts';
import { isPermanent, retryAfterMs } from './failure.ts';

// One sink's delivery loop. Enforcement calls `enqueue` on its hot path, so enqueue is
// synchronous and O(1): it appends to a bounded in-memory queue and, when that is full, to a
// spill list the dead-letter file takes on the next tick. Never a wait, never unbounded memory.
// A single loop per sink takes batches (full, or after batchWait), hands each to the transport,
// retries failures with exponential backoff and jitter, and dead-letters a batch the collector
// refuses for good or that exhausts its retries. One batch in flight at a time keeps order.

/** What a transport does with one batch. Throw sinkRejected (final) or anything else (retried). */
export interface SinkTransport {
  deliver(events: readonly OcsfEvent[], signal: AbortSignal): Promise<DeliveryReport | undefined>;
  close(): Promise<void>;
}

/** Returned when the collector accepted the batch but dropped some records (OTLP partial success). */
export interface DeliveryReport {
  readonly rejected?: number;
  /** Events the transport could never send (e.g. one larger than the collector's request limit): dead-lettered. */
  readonly undeliverable?: { readonly events: readonly OcsfEvent[]; readonly reason: string };
}

export interface SinkStats {
  /** Events the collector accepted. */
  readonly delivered: number;
  /** Retry attempts (of whole batches). */
  readonly retried: number;
  /** Events written to the dead-letter file. */
  readonly deadLettered: number;
  /** Events waiting in memory or in flight. */
  readonly queued: number;
  /** Events the collector reported it dropped after accepting the batch (not retried: OTLP says so). */
  readonly rejectedByCollector: number;
  /** Events lost because even the dead-letter file could not be written. */
  readonly lost: number;
}

export class SinkRunner {
  readonly name: string;
  readonly type: string;
  private readonly transport: SinkTransport;
  private readonly settings: DeliverySettings;
  private readonly deadLetter: DeadLetterFile;
  private readonly log: Logger;
  private readonly random: () => number;

  // The queue: an array read from `head`, compacted when half of it has been consumed.
  private queue: OcsfEvent[] = [];
  private head = 0;
  private spill: OcsfEvent[] = [];
  private spillScheduled = false;
  private inFlight = 0;

  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private flushing = false;
  private closed = false;
  private readonly abort = new AbortController();

  private delivered = 0;
  private retried = 0;
  private deadLettered = 0;
  private rejectedByCollector = 0;
  private lost = 0;

  constructor(options: {
    name: string;
    type: string;
    transport: SinkTransport;
    settings: DeliverySettings;
    deadLetter: DeadLetterFile;
    log: Logger;
    random?: () => number;
  }) {
    this.name = options.name;
    this.type = options.type;
    this.transport = options.transport;
    this.settings = options.settings;
    this.deadLetter = options.deadLetter;
    this.log = options.log;
    this.random = options.random ?? Math.random;
  }

  private size(): number {
    return this.queue.length - this.head;
  }

  /** Queues one event for delivery. Synchronous, O(1), never throws, never waits. */
  enqueue(event: OcsfEvent): void {
    if (this.closed || this.size() >= this.settings.queueSize) {
      this.spill.push(event);
      if (!this.spillScheduled) {
        this.spillScheduled = true;
        setImmediate(() => this.flushSpill());
      }
      return;
    }
    this.queue.push(event);
    if (!this.running) this.running = this.pump();
    else if (this.size() >= this.settings.batchSize) this.wake?.();
  }

  stats(): SinkStats {
    return {
      delivered: this.delivered,
      retried: this.retried,
      deadLettered: this.deadLettered,
      queued: this.size() + this.inFlight + this.spill.length,
      rejectedByCollector: this.rejectedByCollector,
      lost: this.lost,
    };
  }

  /**
   * Stops taking events, sends what is queued without waiting for batches to fill, and by
   * `deadlineMs` aborts whatever is still in flight or queued into the dead-letter file.
   */
  async close(deadlineMs: number): Promise<void> {
    this.closed = true;
    this.flushing = true;
    this.wake?.();
    const timer = setTimeout(() => this.abort.abort(), deadlineMs);
    try {
      while (this.running) await this.running;
      this.flushSpill();
      await this.deadLetter.settled();
    } finally {
      clearTimeout(timer);
      await this.transport.close().catch(() => {});
    }
  }

  private take(count: number): OcsfEvent[] {
    const end = Math.min(this.queue.length, this.head + count);
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  private async pump(): Promise<void> {
    try {
      while (this.size() > 0) {
        if (this.size() < this.settings.batchSize && !this.flushing) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.settings.batchWaitMs);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.wake = undefined;
        }
        const batch = this.take(this.settings.batchSize);
        this.inFlight = batch.length;
        await this.send(batch);
        this.inFlight = 0;
      }
    } finally {
      this.running = undefined;
    }
  }

  private async send(batch: OcsfEvent[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.abort.signal.aborted) return this.toDeadLetter(batch, 'not delivered by the close deadline');
      try {
        const report = await this.transport.deliver(batch, this.abort.signal);
        const rejected = Math.min(report?.rejected ?? 0, batch.length);
        if (rejected > 0) {
          this.rejectedByCollector += rejected;
          this.log.warn({ sink: this.name, rejected }, 'collector dropped part of an accepted batch');
        }
        const undeliverable = report?.undeliverable?.events.length ?? 0;
        if (report?.undeliverable && undeliverable > 0)
          await this.toDeadLetter(report.undeliverable.events, report.undeliverable.reason);
        this.delivered += batch.length - rejected - undeliverable;
        return;
      } catch (error) {
        const message = (error as Error).message;
        if (this.abort.signal.aborted) return this.toDeadLetter(batch, 'not delivered by the close deadline');
        if (isPermanent(error)) return this.toDeadLetter(batch, message);
        if (attempt >= this.settings.retries)
          return this.toDeadLetter(batch, `gave up after ${attempt + 1} attempts: ${message}`);
        this.retried += 1;
        const delay = this.backoff(attempt, retryAfterMs(error));
        this.log.warn(
          { sink: this.name, attempt: attempt + 1, delay_ms: delay, error: message },
          'sink delivery failed; retrying',
        );
        await this.sleep(delay);
      }
    }
  }

  /** Exponential backoff with equal jitter: between half and all of min(max, base·2^attempt). */
  private backoff(attempt: number, retryAfter: number | undefined): number {
    const ceiling = Math.min(this.settings.maxBackoffMs, this.settings.backoffMs * 2 ** attempt);
    const jittered = ceiling / 2 + (this.random() * ceiling) / 2;
    return Math.round(
      retryAfter === undefined
        ? jittered
        : Math.min(this.settings.maxBackoffMs, Math.max(retryAfter, jittered)),
    );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  private flushSpill(): void {
    this.spillScheduled = false;
    if (this.spill.length === 0) return;
    const events = this.spill;
    this.spill = [];
    void this.toDeadLetter(events, this.closed ? 'sink closed' : 'queue full');
  }

  private async toDeadLetter(events: readonly OcsfEvent[], reason: string): Promise<void> {
    const failure = await this.deadLetter.append(events, reason);
    if (failure) {
      this.lost += events.length;
      this.log.error(
        { sink: this.name, events: events.length, error: failure.message },
        'dead-letter write failed; events lost',
      );
      return;
    }
    this.deadLettered += events.length;
    this.log.warn(
      { sink: this.name, events: events.length, reason, file: this.deadLetter.path },
      'events dead-lettered',
    );
  }
}
