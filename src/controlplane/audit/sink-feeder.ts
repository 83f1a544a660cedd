import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditSinks, OcsfEvent } from '../../audit/index.ts';
import { createLogger } from '../../core/log.ts';
import type { Store } from '../store/store.ts';

// Feeds the SIEM sinks from the central store, in global order: every event reaches the sinks
// only once it is stored (hash-chained, committed), whoever wrote it (the control plane, a
// workspace's ingested spool, the checkpointer, the CLI). Following the store rather than the
// writers means one feed, one order, and nothing a writer could forget to hand on.
//
// Delivery to sinks is at-least-once: the cursor (the last gseq handed to the sinks) is saved
// only when every sink's queue is empty (each event delivered or dead-lettered), and on close
// after the flush. After a crash the sinks get again what they may not have delivered.

const log = createLogger('audit-sinks');

/** How often the store is read for new events (poke() reads at once). */
const DEFAULT_INTERVAL_MS = 200;
/** Events read from the store per pass. */
const PAGE = 1000;
/** A sink queue longer than this pauses reading, so a backlog does not overflow into dead letters. */
const QUEUE_HIGH_WATER = 10_000;

export interface AuditSinkFeederOptions {
  /** Where the cursor is kept (JSON `{"gseq": N}`); missing: from the first stored event. */
  readonly cursorFile: string;
  readonly intervalMs?: number;
}

export class AuditSinkFeeder {
  readonly #store: Store;
  readonly #sinks: AuditSinks;
  readonly #options: AuditSinkFeederOptions;
  #cursor: number;
  #saved: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(store: Store, sinks: AuditSinks, options: AuditSinkFeederOptions) {
    this.#store = store;
    this.#sinks = sinks;
    this.#options = options;
    this.#cursor = readCursor(options.cursorFile);
    this.#saved = this.#cursor;
  }

  /** The last global sequence number handed to the sinks. */
  get cursor(): number {
    return this.#cursor;
  }

  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => this.poke(), this.#options.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.#timer.unref();
    this.poke();
  }

  /** Reads what was stored since the last pass (call after storing an event). */
  poke(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass()
      .catch((error: Error) =>
        log.warn({ error: error.message }, 'reading the audit store for the sinks failed'),
      )
      .finally(() => {
        this.#running = undefined;
        if (this.#again && !this.#closed) {
          this.#again = false;
          this.poke();
        }
      });
  }

  /** Hands on what is stored, flushes the sinks (undelivered by the deadline: dead-lettered), saves the cursor. */
  async close(deadlineMs?: number): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
    this.#closed = true;
    await this.#pass().catch((error: Error) =>
      log.warn({ error: error.message }, 'reading the audit store for the sinks failed'),
    );
    await this.#sinks.close(deadlineMs);
    this.#save();
  }

  async #pass(): Promise<void> {
    for (;;) {
      const queued = Math.max(0, ...Object.values(this.#sinks.stats()).map((stats) => stats.queued));
      if (queued === 0) this.#save();
      if (queued > QUEUE_HIGH_WATER) return;
      const entries = await this.#store.readAuditLog({ afterGseq: this.#cursor, limit: PAGE });
      for (const entry of entries) {
        this.#sinks.enqueue(JSON.parse(entry.eventJson) as OcsfEvent);
        this.#cursor = entry.gseq;
      }
      if (entries.length < PAGE) return;
    }
  }

  #save(): void {
    if (this.#saved === this.#cursor) return;
    try {
      mkdirSync(dirname(this.#options.cursorFile), { recursive: true, mode: 0o700 });
      const next = `${this.#options.cursorFile}.next`;
      writeFileSync(next, `${JSON.stringify({ gseq: this.#cursor })}\n`, { mode: 0o600 });
      renameSync(next, this.#options.cursorFile);
      this.#saved = this.#cursor;
    } catch (error) {
      log.warn({ error: (error as Error).message }, 'the audit sinks cursor could not be saved');
    }
  }
}

function readCursor(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  const gseq = (JSON.parse(text) as { gseq?: unknown }).gseq;
  return Number.isSafeInteger(gseq) && (gseq as number) >= 0 ? (gseq as number) : 0;
}
