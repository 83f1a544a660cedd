import { open } from 'node:fs/promises';
import { PaddockError } from '../../core/errors.ts';
import { GENESIS_HASH, parseRecord } from './record.ts';

// Streaming verification of a hash-chained audit log: one pass, constant memory, stops at the
// first break. The break is reported at the first sequence number whose link fails, so an
// operator knows which records up to there can still be trusted.

/** Where and why a chain first breaks. */
export interface ChainBreak {
  /**
   * The first sequence number that cannot be trusted: the one expected at `line`, or the one
   * before it when `line` claims the same place in the chain as its predecessor (an insertion).
   */
  readonly seq: number;
  /** 1-based line number in the file. */
  readonly line: number;
  readonly reason: string;
}

export interface ChainVerification {
  readonly ok: boolean;
  /** Records verified before the first break (all of them when ok). */
  readonly records: number;
  /** Hash of the last verified record; GENESIS_HASH for an empty log. Compare it with a copy kept elsewhere. */
  readonly head: string;
  readonly firstBad?: ChainBreak;
}

async function* fileLines(path: string): AsyncGenerator<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new PaddockError(
      'PDK_AUDIT_READ',
      `audit log ${path} could not be opened: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    for await (const line of handle.readLines({ encoding: 'utf8' })) yield line;
  } catch (error) {
    throw new PaddockError(
      'PDK_AUDIT_READ',
      `audit log ${path} could not be read: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    await handle.close();
  }
}

/**
 * Verifies a chain from a file path or from its lines (without line terminators). Detects an
 * edited record (hash mismatch), a removed one (seq gap, prev mismatch), an inserted or
 * reordered one (repeated or out-of-order seq) and a truncated or garbled line. A log cut at a
 * record boundary is only detectable by comparing `head` with a copy kept elsewhere.
 * Throws PDK_AUDIT_READ when the file cannot be opened or read.
 * @example const { ok, firstBad } = await verifyChain('/var/lib/paddock/audit/ws-1.jsonl');
 */
export async function verifyChain(
  source: string | AsyncIterable<string> | Iterable<string>,
): Promise<ChainVerification> {
  const lines = typeof source === 'string' ? fileLines(source) : source;
  let records = 0;
  let head = GENESIS_HASH;
  let headPrev: string | undefined;
  let headLine = 0;
  let lineNo = 0;
  const broken = (seq: number, reason: string): ChainVerification => ({
    ok: false,
    records,
    head,
    firstBad: { seq, line: lineNo, reason },
  });

  for await (const line of lines) {
    lineNo += 1;
    const expected = records + 1;
    // The writer never writes a blank line, so one means the file was altered.
    if (line.trim() === '') return broken(expected, 'blank line (garbled)');
    const record = parseRecord(line);
    if ('invalid' in record) return broken(expected, record.invalid);
    if (record.seq > expected) {
      return broken(
        expected,
        `found seq ${record.seq} where seq ${expected} was expected: record(s) removed or moved`,
      );
    }
    if (record.seq === records && record.hash === head) {
      return broken(
        expected,
        `line repeats seq ${records} (line ${headLine}) exactly: a record was duplicated`,
      );
    }
    if (record.seq === records && record.prev === headPrev) {
      // Two records claim the same place in the chain: either could be the forgery, so the
      // last record accepted is no longer trusted either.
      const reason = `seq ${records} occurs twice (lines ${headLine} and ${lineNo}) with the same prev: a record was inserted`;
      return {
        ok: false,
        records: records - 1,
        head: headPrev,
        firstBad: { seq: records, line: headLine, reason },
      };
    }
    if (record.seq < expected) {
      return broken(
        expected,
        `found seq ${record.seq} again where seq ${expected} was expected: record inserted or reordered`,
      );
    }
    if (record.prev !== head) {
      const after = expected === 1 ? 'the genesis hash' : `the hash of seq ${expected - 1}`;
      return broken(expected, `prev does not match ${after}: a record before it was replaced or rehashed`);
    }
    records = expected;
    headPrev = record.prev;
    head = record.hash;
    headLine = lineNo;
  }
  return { ok: true, records, head };
}
