import { readFileSync, rmSync } from 'node:fs';
import type { AuditSinks, OcsfEvent } from '../../audit/index.ts';
import { createLogger } from '../../core/log.ts';
import type { Store } from '../store/store.ts';

// Feeds the SIEM sinks from the central store, in global order: every event reaches the sinks
// only once it is stored (hash-chained, committed), whoever wrote it (the control plane, a
// workspace's ingested spool, the checkpointer, the CLI). Following the store rather than the
// writers means one feed, one order, and nothing a writer could forget to hand on.
//
// Delivery to sinks is at-least-once: the cursor (the last gseq handed to the sinks) is kept in
// the store and saved only when every sink's queue is empty (each event delivered or
// dead-lettered), and on close after the flush. After a crash, or when another replica takes
// over the feed (`paddock serve`: the leader of the `audit` election), the sinks get again what
// may not have been delivered; a repeat carries the same event (same `metadata.uid`).

const log = createLogger('audit-sinks');

/** How often the store is read for new events (poke() reads at once). */
const DEFAULT_INTERVAL_MS = 200;
/** Events read from the store per pass. */
const PAGE = 1000;
/** A sink queue longer than this pauses reading, so a backlog does not overflow into dead letters. */
const QUEUE_HIGH_WATER = 10_000;

/** The feed of the sinks of `spec.audit.sinks`: its cursor's name in the store. */
export const SINKS_FEED = 'sinks';

export interface AuditSinkFeederOptions {
  /** The cursor's name in the store (audit_sink_cursors). Default SINKS_FEED; none saved yet: from the first stored event. */
  readonly feed?: string;
  readonly intervalMs?: number;
}

export class AuditSinkFeeder {
  readonly #store: Store;
  readonly #sinks: AuditSinks;
  readonly #options: AuditSinkFeederOptions;
  readonly #feed: string;
  #cursor = 0;
  #saved = 0;
  /** Set once the cursor was read from the store: nothing is read for the sinks before. */
  #loaded = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(store: Store, sinks: AuditSinks, options: AuditSinkFeederOptions = {}) {
    this.#store = store;
    this.#sinks = sinks;
    this.#options = options;
    this.#feed = options.feed ?? SINKS_FEED;
  }

  /** The last global sequence number handed to the sinks. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Reads the cursor from the store, then feeds the sinks until close(). */
  async start(): Promise<void> {
    if (this.#loaded || this.#closed) return;
    this.#cursor = (await this.#store.auditSinkCursor(this.#feed)) ?? 0;
    this.#saved = this.#cursor;
    this.#loaded = true;
    if (this.#closed) return;
    this.#timer = setInterval(() => this.poke(), this.#options.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.#timer.unref();
    this.poke();
  }

  /** Reads what was stored since the last pass (call after storing an event). */
  poke(): void {
    if (this.#closed || !this.#loaded) return;
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

  /**
   * Hands on what is stored (unless `readMore` is false: a replica that lost the `audit` election
   * leaves the rest to its successor), flushes the sinks (undelivered by the deadline:
   * dead-lettered), saves the cursor.
   */
  async close(deadlineMs?: number, readMore = true): Promise<void> {
    clearInterval(this.#timer);
    this.#closed = true;
    await this.#running;
    if (this.#loaded && readMore)
      await this.#pass().catch((error: Error) =>
        log.warn({ error: error.message }, 'reading the audit store for the sinks failed'),
      );
    await this.#sinks.close(deadlineMs);
    if (this.#loaded) await this.#save();
  }

  async #pass(): Promise<void> {
    for (;;) {
      const queued = Math.max(0, ...Object.values(this.#sinks.stats()).map((stats) => stats.queued));
      if (queued === 0) await this.#save();
      if (queued > QUEUE_HIGH_WATER) return;
      const entries = await this.#store.readAuditLog({ afterGseq: this.#cursor, limit: PAGE });
      for (const entry of entries) {
        this.#sinks.enqueue(JSON.parse(entry.eventJson) as OcsfEvent);
        this.#cursor = entry.gseq;
      }
      if (entries.length < PAGE) return;
    }
  }

  async #save(): Promise<void> {
    const cursor = this.#cursor;
    if (this.#saved === cursor) return;
    try {
      await this.#store.saveAuditSinkCursor(this.#feed, cursor);
      this.#saved = cursor;
    } catch (error) {
      log.warn({ error: (error as Error).message }, 'the audit sinks cursor could not be saved');
    }
  }
}

/**
 * Moves a cursor file of an older `paddock up` (`<data dir>/audit/sinks-cursor.json`,
 * `{"gseq": N}`) into the store once, then removes the file, so an upgrade does not send the
 * sinks everything again. Resolves to the gseq it moved, or undefined when there was no file.
 */
export async function adoptCursorFile(
  store: Store,
  file: string,
  feed: string = SINKS_FEED,
): Promise<number | undefined> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let gseq: unknown;
  try {
    gseq = (JSON.parse(text) as { gseq?: unknown }).gseq;
  } catch {
    gseq = undefined;
  }
  if (!Number.isSafeInteger(gseq) || (gseq as number) < 0) {
    log.warn({ file }, 'the old audit sinks cursor file is not {"gseq": N}: ignored');
    rmSync(file, { force: true });
    return undefined;
  }
  // Saved before the file goes: a crash in between adopts the same value again (it never moves back).
  await store.saveAuditSinkCursor(feed, gseq as number);
  rmSync(file, { force: true });
  log.info({ gseq: gseq as number }, 'audit sinks cursor moved from its file into the store');
  return gseq as number;
}
