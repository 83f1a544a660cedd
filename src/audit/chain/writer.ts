import { open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Clock, systemClock } from '../../core/clock.ts';
import { PaddockError } from '../../core/errors.ts';
import { type AuditRecord, chainRecord, serializeRecord } from './record.ts';
import { type ChainTail, readChainTail } from './tail.ts';

// The append-only writer of a hash-chained audit log. One writer per file (the supervisor's
// audit spool, the control plane's audit store export): two writers would fork the chain.
// Appends that arrive while a write is in flight are committed together, one write and one
// fdatasync for the lot, so throughput grows with concurrency while every promise still
// resolves only once its record is on disk.

type FileHandle = Awaited<ReturnType<typeof open>>;

export interface AuditChainWriterOptions {
  /** Called on every event before it is queued; throw to refuse it (see createOcsfEventCheck). */
  readonly checkEvent?: (event: unknown) => void;
  /** Source of record times. Default: the system clock. */
  readonly clock?: Clock;
  /**
   * Where the chain stands when the file is empty or missing: a new segment of a spool
   * continues its predecessor's chain. Ignored when the file has records. Default: genesis.
   */
  readonly continueFrom?: ChainTail;
}

interface Pending {
  readonly events: readonly Record<string, unknown>[];
  readonly resolve: (records: AuditRecord[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Appends OCSF events to a hash-chained JSON-lines log; each append resolves once durable.
 * @example
 * const writer = await AuditChainWriter.open(file, { checkEvent: ocsfEventCheckFromEnv() });
 * await writer.append(egressDecisionEvent({ ... })); // on disk when this resolves
 * await writer.close();
 */
export class AuditChainWriter {
  readonly path: string;
  readonly #handle: FileHandle;
  readonly #options: AuditChainWriterOptions;
  #seq: number;
  #head: string;
  #size: number;
  #queue: Pending[] = [];
  #draining: Promise<void> | undefined;
  #failure: PaddockError | undefined;
  #closed = false;

  private constructor(
    path: string,
    handle: FileHandle,
    tail: { seq: number; hash: string },
    size: number,
    options: AuditChainWriterOptions,
  ) {
    this.path = path;
    this.#size = size;
    this.#handle = handle;
    this.#options = options;
    this.#seq = tail.seq;
    this.#head = tail.hash;
  }

  /**
   * Opens (creating, mode 0600) the log at `path` for appending and resumes after its last
   * record. Throws PDK_AUDIT_CHAIN_BROKEN when the last line is incomplete or invalid: the log
   * needs a human before anything is added to it.
   * @example const writer = await AuditChainWriter.open('/var/lib/paddock/audit/ws-1.jsonl');
   */
  static async open(path: string, options: AuditChainWriterOptions = {}): Promise<AuditChainWriter> {
    const size = await stat(path).then(
      (info) => info.size,
      () => -1,
    );
    const existed = size >= 0;
    const ownTail = await readChainTail(path);
    const tail = ownTail.seq === 0 && options.continueFrom ? options.continueFrom : ownTail;
    let handle: FileHandle;
    try {
      handle = await open(path, 'a', 0o600);
      // A new file's directory entry must be durable too, or a crash could lose the whole log.
      if (!existed) {
        const dir = await open(dirname(path), 'r');
        await dir.sync().finally(() => dir.close());
      }
    } catch (error) {
      throw new PaddockError(
        'PDK_AUDIT_WRITE',
        `audit log ${path} could not be opened for appending: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return new AuditChainWriter(path, handle, tail, Math.max(size, 0), options);
  }

  /** Sequence number of the last durable record (0 for an empty log). */
  get seq(): number {
    return this.#seq;
  }

  /** Hash of the last durable record: the value to anchor elsewhere. */
  get head(): string {
    return this.#head;
  }

  /** Bytes in the file once every committed write is counted (for rotation). */
  get size(): number {
    return this.#size;
  }

  /** Appends one event; resolves with its record once it is on disk (after fdatasync). */
  async append(event: Record<string, unknown>): Promise<AuditRecord> {
    const [record] = await this.appendBatch([event]);
    return record as AuditRecord;
  }

  /**
   * Appends events as consecutive records with one write and one fdatasync; all or none.
   * Rejects with PDK_AUDIT_EVENT_INVALID for an event the check or JSON refuses (nothing of the
   * batch is written) and PDK_AUDIT_WRITE when the disk fails (the writer then refuses all
   * further appends: the file may end in a partial record).
   */
  appendBatch(events: readonly Record<string, unknown>[]): Promise<AuditRecord[]> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed)
      return Promise.reject(new PaddockError('PDK_AUDIT_WRITE', `audit log ${this.path} is closed`));
    if (events.length === 0) return Promise.resolve([]);
    try {
      for (const event of events) this.#options.checkEvent?.(event);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  /** Waits for queued appends, then closes the file. Further appends reject. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#draining;
    await this.#handle.close();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#failure) await this.#commit(this.#queue.splice(0));
    } finally {
      // Cleared in the same turn the queue is seen empty (callers resumed by the last commit
      // run later), so any later append starts a new drain instead of waiting forever.
      this.#draining = undefined;
    }
  }

  /** Chains and writes one group of pending appends with a single write and fdatasync. */
  async #commit(batch: Pending[]): Promise<void> {
    const clock = this.#options.clock ?? systemClock;
    const accepted: { pending: Pending; records: AuditRecord[] }[] = [];
    let seq = this.#seq;
    let head = this.#head;
    for (const pending of batch) {
      const records: AuditRecord[] = [];
      try {
        for (const event of pending.events) {
          records.push(
            chainRecord(seq + records.length + 1, clock.now(), records.at(-1)?.hash ?? head, event),
          );
        }
      } catch (error) {
        pending.reject(error); // an event JSON cannot represent: only this caller's batch fails
        continue;
      }
      accepted.push({ pending, records });
      seq += records.length;
      head = records.at(-1)?.hash ?? head;
    }
    if (accepted.length === 0) return;
    try {
      const data = Buffer.from(accepted.flatMap((a) => a.records.map(serializeRecord)).join(''), 'utf8');
      await this.#writeAll(data);
      this.#size += data.length;
      await this.#handle.datasync();
    } catch (error) {
      const message = `audit log ${this.path} could not be written: ${(error as Error).message}`;
      this.#failure = new PaddockError('PDK_AUDIT_WRITE', message, { cause: error });
      for (const { pending } of accepted) pending.reject(this.#failure);
      for (const pending of this.#queue.splice(0)) pending.reject(this.#failure);
      return;
    }
    this.#seq = seq;
    this.#head = head;
    for (const { pending, records } of accepted) pending.resolve(records);
  }

  async #writeAll(data: Buffer): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await this.#handle.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
  }
}
