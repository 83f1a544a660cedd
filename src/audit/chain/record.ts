import { createHash, hash } from 'node:crypto';
import { canonicalize, canonicalJson } from './canonical-json.ts';

// One line of a hash-chained audit log:
//   {"seq":1,"time":1767225600000,"prev":"000…0","hash":"9f…","event":{…}}
// seq counts from 1 with no gaps; prev is the previous record's hash (64 zeros for the first);
// hash is SHA-256, lowercase hex, over the canonical JSON of {seq, time, prev, event}. Because
// every record commits to its predecessor, editing, removing, inserting or reordering a record
// breaks the chain at that point. Records after an edit can be rehashed by whoever can write
// the file, so the head hash must also be kept elsewhere (the control plane's store, a SIEM) and
// compared: `paddock audit verify` prints it for that purpose.

/** The `prev` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditRecord {
  /** 1 for the first record, then +1 per record. */
  readonly seq: number;
  /** When the record was appended, milliseconds since the epoch. */
  readonly time: number;
  /** The previous record's hash; GENESIS_HASH for seq 1. */
  readonly prev: string;
  /** SHA-256 (hex) of the canonical JSON of {seq, time, prev, event}. */
  readonly hash: string;
  /** The OCSF event, as appended. */
  readonly event: Readonly<Record<string, unknown>>;
}

/** The hash a record with these members must carry. */
export function recordHash(seq: number, time: number, prev: string, event: unknown): string {
  return createHash('sha256').update(canonicalJson({ seq, time, prev, event })).digest('hex');
}

/**
 * recordHash for an event already in canonical JSON (as the control plane's store keeps it):
 * the hashed bytes are rebuilt by concatenation, members in canonical order (event, prev, seq,
 * time), so verifying a stored chain needs no parse. Equal to recordHash(seq, time, prev,
 * JSON.parse(canonicalEvent)) whenever canonicalEvent is canonical and prev is a lowercase hex
 * digest (callers check it: it is written into the hashed bytes unescaped).
 */
export function recordHashOfCanonical(
  seq: number,
  time: number,
  prev: string,
  canonicalEvent: string,
): string {
  // prev is a hex digest (callers check), so it needs no escaping.
  return recordHashOfHashedText(`{"event":${canonicalEvent},"prev":"${prev}","seq":${seq},"time":${time}}`);
}

/**
 * The hash of a record's hashed text, '{"event":' + canonical event + ',"prev":"' + prev +
 * '","seq":' + seq + ',"time":' + time + '}' (what recordHashOfCanonical builds), when it was
 * assembled elsewhere: the control plane's store hands it to verification as one flat string.
 */
export function recordHashOfHashedText(hashed: string): string {
  // crypto.hash: the one-shot form, markedly cheaper than createHash for records this small.
  return hash('sha256', hashed);
}

/** Builds the record that follows `prev` (or starts the chain when prev is GENESIS_HASH). */
export function chainRecord(
  seq: number,
  time: number,
  prev: string,
  event: Record<string, unknown>,
): AuditRecord {
  // The record keeps the event in canonical member order (see canonicalize), hashed once.
  const canonical = canonicalize(event);
  const hash = HEX64.test(prev)
    ? recordHashOfCanonical(seq, time, prev, canonical.text)
    : recordHash(seq, time, prev, event);
  return { seq, time, prev, hash, event: canonical.value as Record<string, unknown> };
}

/** One JSON line, members in reading order (the hash does not depend on it). */
export function serializeRecord(record: AuditRecord): string {
  return `${JSON.stringify({ seq: record.seq, time: record.time, prev: record.prev, hash: record.hash, event: record.event })}\n`;
}

const HEX64 = /^[0-9a-f]{64}$/;
const MEMBERS = new Set(['seq', 'time', 'prev', 'hash', 'event']);

/**
 * Parses one line into a record whose own hash checks out. Returns the reason when it does not:
 * not JSON, a missing or unexpected member, or a hash that does not match the content.
 */
export function parseRecord(line: string): AuditRecord | { readonly invalid: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { invalid: 'not valid JSON (truncated or garbled line)' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { invalid: 'not a record object' };
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((key) => !MEMBERS.has(key));
  if (extra.length > 0)
    return { invalid: `unexpected member(s) ${extra.join(', ')} (not covered by the hash)` };
  const { seq, time, prev, hash, event } = record;
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) return { invalid: 'seq is not a positive integer' };
  if (!Number.isSafeInteger(time)) return { invalid: 'time is not an integer' };
  if (typeof prev !== 'string' || !HEX64.test(prev)) return { invalid: 'prev is not a SHA-256 hex digest' };
  if (typeof hash !== 'string' || !HEX64.test(hash)) return { invalid: 'hash is not a SHA-256 hex digest' };
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    return { invalid: 'event is not an object' };
  if (recordHash(seq as number, time as number, prev, event) !== hash) {
    return { invalid: 'hash does not match the record content (record edited)' };
  }
  return record as unknown as AuditRecord;
}
