import { MAX_AUDIT_BATCH_BYTES, MAX_AUDIT_BATCH_EVENTS } from '../../core/channel/protocol.ts';
import { PaddockError } from '../../core/errors.ts';
import type { AuditRecord } from '../chain/record.ts';

// The audit shipping protocol between a component's spool and the control plane's ingest.
// It rides on any request/response carrier (the workspace channel, a test socket):
//
//   → {"type":"audit.batch","source":"ws-1","events":[<chain record>, …]}
//   ← {"type":"audit.ack","source":"ws-1","uptoSeq":120,"hash":"…"}     stored up to seq 120
//   ← {"type":"audit.nack","source":"ws-1","code":"PDK_…","message":"…"} refused; nothing stored
//
// Events are the spool's chain records ({seq, time, prev, hash, event}) exactly as written, so
// the control plane stores the very chain the component wrote. The ack names the source's head
// in the store (which may be past the batch when an earlier upload landed but its ack was
// lost), and the spool only marks acknowledged what it holds itself with the same hash.

/** At most this many events per batch (the workspace channel's `audit_batch` bound). */
export const MAX_BATCH_EVENTS = MAX_AUDIT_BATCH_EVENTS;
/** At most this many bytes of JSON per batch (the carrier must accept frames this large). */
export const MAX_BATCH_BYTES = MAX_AUDIT_BATCH_BYTES;

export interface AuditBatchMessage {
  readonly type: 'audit.batch';
  /** The chain's source: `controlplane`, or the workspace id for its supervisor. */
  readonly source: string;
  /** Consecutive chain records in seq order. */
  readonly events: readonly AuditRecord[];
}

export interface AuditAckMessage {
  readonly type: 'audit.ack';
  readonly source: string;
  /** The source's last stored seq: every event up to it is durable in the central store. */
  readonly uptoSeq: number;
  /** The hash of the record at uptoSeq. */
  readonly hash: string;
}

export interface AuditNackMessage {
  readonly type: 'audit.nack';
  readonly source: string;
  /** A PaddockError code, e.g. PDK_STORE_CONFLICT (forked chain) or PDK_STORE_UNAVAILABLE (retry). */
  readonly code: string;
  readonly message: string;
}

export type AuditReply = AuditAckMessage | AuditNackMessage;

/**
 * Carries one batch to the ingest and resolves to its reply; rejects when the carrier fails
 * (the batch may or may not have been stored: the spool sends it again, ingest skips duplicates).
 */
export interface AuditTransport {
  send(batch: AuditBatchMessage): Promise<AuditReply>;
}

const HEX64 = /^[0-9a-f]{64}$/;

function invalid(message: string): PaddockError {
  return new PaddockError('PDK_AUDIT_EVENT_INVALID', `audit.batch ${message}`);
}

/** Validates an incoming batch's shape (records' hashes are checked by the store). */
export function parseAuditBatch(value: unknown): AuditBatchMessage {
  if (typeof value !== 'object' || value === null) throw invalid('is not an object');
  const message = value as Record<string, unknown>;
  if (message['type'] !== 'audit.batch') throw invalid(`has type ${String(message['type'])}`);
  const { source, events } = message;
  if (typeof source !== 'string' || source === '' || source.length > 200)
    throw invalid('source is not a non-empty string of at most 200 characters');
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_BATCH_EVENTS)
    throw invalid(`events is not an array of 1..${MAX_BATCH_EVENTS} records`);
  events.forEach((record, index) => {
    const r = record as Record<string, unknown>;
    if (
      typeof r !== 'object' ||
      r === null ||
      !Number.isSafeInteger(r['seq']) ||
      !Number.isSafeInteger(r['time']) ||
      typeof r['prev'] !== 'string' ||
      !HEX64.test(r['prev']) ||
      typeof r['hash'] !== 'string' ||
      !HEX64.test(r['hash']) ||
      typeof r['event'] !== 'object' ||
      r['event'] === null ||
      Array.isArray(r['event'])
    ) {
      throw invalid(`event ${index} is not a chain record {seq, time, prev, hash, event}`);
    }
  });
  return { type: 'audit.batch', source, events: events as AuditRecord[] };
}

/** Validates a reply; anything else is a carrier fault (PDK_AUDIT_SHIP). */
export function parseAuditReply(value: unknown, source: string): AuditReply {
  const reply = value as Record<string, unknown> | null;
  if (reply?.['source'] !== source) {
    throw new PaddockError(
      'PDK_AUDIT_SHIP',
      `audit reply is for source ${String(reply?.['source'])}, not ${source}`,
    );
  }
  if (
    reply['type'] === 'audit.ack' &&
    Number.isSafeInteger(reply['uptoSeq']) &&
    typeof reply['hash'] === 'string'
  ) {
    return reply as unknown as AuditAckMessage;
  }
  if (
    reply['type'] === 'audit.nack' &&
    typeof reply['code'] === 'string' &&
    typeof reply['message'] === 'string'
  ) {
    return reply as unknown as AuditNackMessage;
  }
  throw new PaddockError('PDK_AUDIT_SHIP', 'audit reply is neither a well-formed audit.ack nor audit.nack');
}

/**
 * A transport to an ingest in the same process (tests, and the control plane shipping a
 * spool of its own). Messages go through JSON, as on a wire, so nothing is shared by reference.
 * @example await spool.ship(inProcessTransport((batch) => ingest.receive(batch, 'ws-1')));
 */
export function inProcessTransport(handle: (batch: unknown) => Promise<unknown>): AuditTransport {
  return {
    async send(batch) {
      const reply = await handle(JSON.parse(JSON.stringify(batch)));
      return parseAuditReply(JSON.parse(JSON.stringify(reply)), batch.source);
    },
  };
}
