import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { auditSystemEvent } from '../events/audit-system.ts';
import type { Clock } from '../../core/clock.ts';
import { PaddockError } from '../../core/errors.ts';
import { type AuditRecord, parseRecord } from '../chain/record.ts';
import { type ChainTail, readChainTail } from '../chain/tail.ts';
import { AuditChainWriter } from '../chain/writer.ts';
import { type AuditTransport, MAX_BATCH_BYTES, MAX_BATCH_EVENTS } from './protocol.ts';
import {
  listSegments,
  lockSpool,
  readCursor,
  removeSegment,
  type Segment,
  segmentPath,
  truncateTornTail,
  writeCursor,
} from './segments.ts';

// The local durable spool: every event a component emits is appended here first, and the
// append resolves only once the record is on disk (AuditChainWriter: one write and one
// fdatasync per group of concurrent appends). The spool IS the component's hash chain, cut
// into segments; the control plane stores the same records, so the chain it verifies is the
// one written here. ship() sends what the control plane has not acknowledged, in batches,
// and moves the acknowledged cursor; a crash anywhere means some events are sent again
// (at-least-once), never that one is lost. Acknowledged segments are deleted except the
// newest, so the spool's size is bounded by what the control plane has not yet stored.

export interface AuditSpoolOptions {
  /** The chain's source name in the central store (`controlplane`, or the workspace id). */
  readonly source: string;
  /** Start a new segment once the current one reaches this size. Default 16 MiB, at least 4 KiB. */
  readonly maxSegmentBytes?: number;
  /** Called on every event before it is queued; throw to refuse it (see createOcsfEventCheck). */
  readonly checkEvent?: (event: unknown) => void;
  /** Source of record times. Default: the system clock. */
  readonly clock?: Clock;
  /** Told after each rotation (e.g. to log or emit audit.spool_rotated). Must not throw. */
  readonly onRotate?: (info: { readonly closedSegment: string; readonly lastSeq: number }) => void;
}

export interface ShipOptions {
  /** Events per batch. Default 500, at most MAX_BATCH_EVENTS. */
  readonly maxBatchEvents?: number;
  /** JSON bytes per batch (roughly). Default 1 MiB, at most MAX_BATCH_BYTES. */
  readonly maxBatchBytes?: number;
}

export interface ShipResult {
  /** Events sent (including ones sent again). */
  readonly sent: number;
  /** The acknowledged seq after shipping. */
  readonly acknowledged: number;
}

/** Where reading stopped last time, so shipping does not rescan a segment per batch. */
interface ReadPosition {
  readonly segment: number;
  readonly offset: number;
  readonly seq: number;
}

/**
 * A segmented, hash-chained, fsync'd spool with an acknowledged cursor.
 * @example
 * const spool = await AuditSpool.open('/var/lib/paddock/spool', { source: 'ws-1' });
 * await spool.append(event);              // durable when this resolves
 * await spool.ship(transport);            // at-least-once to the control plane
 */
export class AuditSpool {
  readonly dir: string;
  readonly source: string;
  /** Bytes of torn final record cut off when the spool was opened (0 after a clean stop). */
  readonly recoveredBytes: number;
  readonly #options: AuditSpoolOptions;
  readonly #maxSegmentBytes: number;
  #segments: Segment[];
  #writer: AuditChainWriter;
  #rotating: Promise<void> | undefined;
  #acknowledged: ChainTail;
  #shipping: Promise<ShipResult> | undefined;
  #position: ReadPosition | undefined;
  #unlock: () => Promise<void> = async () => {};

  private constructor(
    dir: string,
    options: AuditSpoolOptions,
    segments: Segment[],
    writer: AuditChainWriter,
    acknowledged: ChainTail,
    recoveredBytes: number,
  ) {
    this.dir = dir;
    this.source = options.source;
    this.#options = options;
    this.#maxSegmentBytes = Math.max(4096, options.maxSegmentBytes ?? 16 * 1024 * 1024);
    this.#segments = segments;
    this.#writer = writer;
    this.#acknowledged = acknowledged;
    this.recoveredBytes = recoveredBytes;
  }

  /**
   * Opens (creating) the spool in `dir`: cuts a torn final record left by a crash, resumes the
   * chain after the last durable record and the cursor where the control plane left it.
   * Throws PDK_AUDIT_CHAIN_BROKEN when the last record is complete but invalid (tampering or
   * disk corruption: a human must look), PDK_AUDIT_WRITE while another live process has the
   * spool open (one writer per chain), PDK_AUDIT_READ / PDK_AUDIT_WRITE on I/O failure.
   */
  static async open(dir: string, options: AuditSpoolOptions): Promise<AuditSpool> {
    const unlock = await lockSpool(dir);
    try {
      const spool = await AuditSpool.#openLocked(dir, options, await listSegments(dir));
      spool.#unlock = unlock;
      return spool;
    } catch (error) {
      await unlock();
      throw error;
    }
  }

  static async #openLocked(dir: string, options: AuditSpoolOptions, found: Segment[]): Promise<AuditSpool> {
    let segments = found;
    const acknowledged = await readCursor(dir);
    const last = segments.at(-1);
    const recovered = last ? await truncateTornTail(last.path) : 0;
    if (!last) segments = [{ first: acknowledged.seq + 1, path: segmentPath(dir, acknowledged.seq + 1) }];
    const current = segments.at(-1) as Segment;
    // An empty newest segment (a crash right after rotation) continues its predecessor's chain,
    // or the cursor's when the predecessor was already acknowledged and deleted.
    const previous = segments.at(-2);
    const continueFrom = previous ? await readChainTail(previous.path) : acknowledged;
    const writer = await AuditChainWriter.open(current.path, {
      clock: options.clock,
      checkEvent: options.checkEvent,
      continueFrom,
    });
    if (writer.seq === 0 && current.first !== 1 && continueFrom.seq !== current.first - 1) {
      await writer.close();
      throw new PaddockError(
        'PDK_AUDIT_CHAIN_BROKEN',
        `audit spool ${dir}: segment ${current.path} starts at seq ${current.first} but the chain before it ends at ${continueFrom.seq}`,
      );
    }
    if (acknowledged.seq > writer.seq) {
      await writer.close();
      throw new PaddockError(
        'PDK_AUDIT_CHAIN_BROKEN',
        `audit spool ${dir} ends at seq ${writer.seq} but the control plane acknowledged seq ${acknowledged.seq}: records were lost from the spool`,
      );
    }
    return new AuditSpool(dir, options, segments, writer, acknowledged, recovered);
  }

  /** The last durable seq (0 when empty). */
  get seq(): number {
    return this.#writer.seq;
  }

  /** The hash of the last durable record. */
  get head(): string {
    return this.#writer.head;
  }

  /** What the control plane acknowledged storing. */
  get acknowledged(): ChainTail {
    return this.#acknowledged;
  }

  /** Appends one event; resolves once it is durable on disk. */
  async append(event: Record<string, unknown>): Promise<AuditRecord> {
    const [record] = await this.appendBatch([event]);
    return record as AuditRecord;
  }

  /** Appends events as consecutive records, all or none; resolves once they are durable. */
  async appendBatch(events: readonly Record<string, unknown>[]): Promise<AuditRecord[]> {
    while (this.#rotating) await this.#rotating;
    const writer = this.#writer;
    const records = await writer.appendBatch(events);
    if (writer === this.#writer && writer.size >= this.#maxSegmentBytes && !this.#rotating) {
      this.#rotating = this.#rotate().finally(() => {
        this.#rotating = undefined;
      });
      await this.#rotating;
    }
    return records;
  }

  /**
   * Sends every durable, unacknowledged record through `transport` in batches, moving the
   * acknowledged cursor after each ack, until the spool is caught up. Concurrent calls share
   * one run. Rejects with PDK_AUDIT_SHIP when the control plane refuses a batch or its ack
   * does not match the spool; a transport failure rejects with the transport's error. Either
   * way nothing acknowledged is lost and the next call resumes from the cursor.
   */
  ship(transport: AuditTransport, options: ShipOptions = {}): Promise<ShipResult> {
    this.#shipping ??= this.#ship(transport, options).finally(() => {
      this.#shipping = undefined;
    });
    return this.#shipping;
  }

  /** Waits for appends and shipping in flight, then closes the current segment. */
  async close(): Promise<void> {
    while (this.#rotating) await this.#rotating;
    await this.#shipping?.catch(() => {});
    await this.#writer.close();
    await this.#unlock();
  }

  async #rotate(): Promise<void> {
    const old = this.#writer;
    await old.close();
    const first = old.seq + 1;
    const segment = { first, path: segmentPath(this.dir, first) };
    this.#writer = await AuditChainWriter.open(segment.path, {
      clock: this.#options.clock,
      checkEvent: this.#options.checkEvent,
      continueFrom: { seq: old.seq, hash: old.head },
    });
    this.#segments.push(segment);
    // The new segment opens with the rotation's own record, so the trail shows it happened.
    await this.#writer.append(
      auditSystemEvent({
        event: 'audit.spool_rotated',
        component: this.source,
        resource: basename(segment.path),
        workspaceId: this.source === 'controlplane' ? undefined : this.source,
        message: `audit spool ${this.source} closed ${basename(old.path)} at seq ${old.seq} and began ${basename(segment.path)}`,
        details: { closed_segment: basename(old.path), last_seq: old.seq },
      }) as unknown as Record<string, unknown>,
    );
    this.#options.onRotate?.({ closedSegment: old.path, lastSeq: old.seq });
  }

  async #ship(transport: AuditTransport, options: ShipOptions): Promise<ShipResult> {
    const maxEvents = Math.min(MAX_BATCH_EVENTS, Math.max(1, options.maxBatchEvents ?? 500));
    const maxBytes = Math.min(MAX_BATCH_BYTES, Math.max(4096, options.maxBatchBytes ?? 1024 * 1024));
    let sent = 0;
    while (this.#acknowledged.seq < this.seq) {
      const records = await this.#read(this.#acknowledged.seq, this.seq, maxEvents, maxBytes);
      if (records.length === 0) break;
      const reply = await transport.send({ type: 'audit.batch', source: this.source, events: records });
      sent += records.length;
      if (reply.type === 'audit.nack') {
        throw new PaddockError(
          'PDK_AUDIT_SHIP',
          `the control plane refused audit batch seq ${records[0]?.seq}..${records.at(-1)?.seq} of ${this.source}: ${reply.code}: ${reply.message}`,
        );
      }
      await this.#acknowledge(reply.uptoSeq, reply.hash, records);
    }
    return { sent, acknowledged: this.#acknowledged.seq };
  }

  /** Checks an ack against the spool, then persists the cursor and drops acknowledged segments. */
  async #acknowledge(uptoSeq: number, hash: string, batch: readonly AuditRecord[]): Promise<void> {
    const last = batch.at(-1) as AuditRecord;
    if (uptoSeq > this.seq || uptoSeq < (batch[0] as AuditRecord).seq) {
      throw new PaddockError(
        'PDK_AUDIT_SHIP',
        `the control plane acknowledged ${this.source} up to seq ${uptoSeq} after a batch of seq ` +
          `${batch[0]?.seq}..${last.seq} (spool at ${this.seq}): its store and this spool disagree`,
      );
    }
    const own =
      uptoSeq <= last.seq ? batch.find((r) => r.seq === uptoSeq)?.hash : await this.#hashAt(uptoSeq);
    if (own !== hash) {
      throw new PaddockError(
        'PDK_AUDIT_SHIP',
        `the control plane's head for ${this.source} at seq ${uptoSeq} has another hash than this spool: the chains forked`,
      );
    }
    this.#acknowledged = { seq: uptoSeq, hash };
    await writeCursor(this.dir, this.#acknowledged);
    // Keep the newest segment (the writer's) and any not wholly acknowledged.
    while (this.#segments.length > 1 && (this.#segments[1] as Segment).first - 1 <= uptoSeq) {
      await removeSegment(this.#segments.shift() as Segment);
    }
  }

  async #hashAt(seq: number): Promise<string | undefined> {
    const [record] = await this.#read(seq - 1, seq, 1, MAX_BATCH_BYTES);
    return record?.seq === seq ? record.hash : undefined;
  }

  /** Durable records with seq in (after, upto], at most maxEvents and about maxBytes. */
  async #read(after: number, upto: number, maxEvents: number, maxBytes: number): Promise<AuditRecord[]> {
    const index = this.#segments.findLastIndex((s) => s.first <= after + 1);
    if (index < 0) {
      throw new PaddockError(
        'PDK_AUDIT_READ',
        `audit spool ${this.dir} no longer holds seq ${after + 1} (acknowledged segments were removed)`,
      );
    }
    const records: AuditRecord[] = [];
    let bytes = 0;
    for (let i = index; i < this.#segments.length && records.length < maxEvents && bytes < maxBytes; i++) {
      const segment = this.#segments[i] as Segment;
      const start =
        this.#position?.segment === segment.first && this.#position.seq <= after ? this.#position : undefined;
      let offset = start?.offset ?? 0;
      const handle = await open(segment.path, 'r');
      try {
        const buffer = Buffer.alloc(Math.min(maxBytes * 2, 8 * 1024 * 1024));
        let carry = Buffer.alloc(0);
        for (;;) {
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset + carry.length);
          if (bytesRead === 0) break;
          let data =
            carry.length > 0
              ? Buffer.concat([carry, buffer.subarray(0, bytesRead)])
              : buffer.subarray(0, bytesRead);
          let lineStart = 0;
          let stop = false;
          for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, lineStart)) {
            const line = data.subarray(lineStart, nl).toString('utf8');
            const record = parseRecord(line);
            if ('invalid' in record) {
              throw new PaddockError(
                'PDK_AUDIT_CHAIN_BROKEN',
                `audit spool segment ${segment.path} has an invalid record at byte ${offset + lineStart}: ${record.invalid}`,
              );
            }
            if (record.seq > upto) {
              stop = true;
              break;
            }
            if (record.seq > after) {
              records.push(record);
              bytes += nl - lineStart + 1;
            }
            lineStart = nl + 1;
            this.#position = { segment: segment.first, offset: offset + lineStart, seq: record.seq };
            if (records.length >= maxEvents || bytes >= maxBytes) {
              stop = true;
              break;
            }
          }
          if (stop) break;
          offset += lineStart;
          carry = Buffer.from(data.subarray(lineStart));
          data = Buffer.alloc(0);
        }
      } finally {
        await handle.close();
      }
    }
    return records;
  }
}
