import { open } from 'node:fs/promises';
import { PaddockError } from '../../core/errors.ts';
import { GENESIS_HASH, parseRecord } from './record.ts';

// Finds where an existing log left off by reading its last line backwards from the end, so
// reopening a large log costs one small read instead of a full pass.

/** Where an existing chain left off. */
export interface ChainTail {
  readonly seq: number;
  readonly hash: string;
}

const CHUNK_BYTES = 64 * 1024;
/** A record longer than this is not one our writer produced. */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/**
 * Reads the last record of the log at `path`: GENESIS (seq 0) for an empty or missing file.
 * Throws PDK_AUDIT_CHAIN_BROKEN when the last line is incomplete or does not parse as a record
 * with a valid hash (a crash mid-write, or tampering: either way a human must look), and
 * PDK_AUDIT_READ when the file cannot be read.
 */
export async function readChainTail(path: string): Promise<ChainTail> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { seq: 0, hash: GENESIS_HASH };
    throw new PaddockError(
      'PDK_AUDIT_READ',
      `audit log ${path} could not be opened: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return { seq: 0, hash: GENESIS_HASH };
    const chunks: Buffer[] = [];
    let end = size;
    let lineStart = -1;
    while (end > 0 && lineStart < 0 && size - end < MAX_RECORD_BYTES) {
      const start = Math.max(0, end - CHUNK_BYTES);
      const chunk = Buffer.alloc(end - start);
      await handle.read(chunk, 0, chunk.length, start);
      chunks.unshift(chunk);
      // Skip the final newline itself when looking for the one before the last line.
      const searchFrom = end === size ? chunk.length - 2 : chunk.length - 1;
      const newline = searchFrom < 0 ? -1 : chunk.lastIndexOf(0x0a, searchFrom);
      if (newline >= 0) lineStart = start + newline + 1;
      else if (start === 0) lineStart = 0;
      end = start;
    }
    const tail = Buffer.concat(chunks);
    if (tail[tail.length - 1] !== 0x0a) {
      throw new PaddockError(
        'PDK_AUDIT_CHAIN_BROKEN',
        `audit log ${path} ends with an incomplete record; run \`paddock audit verify ${path}\` and preserve the file`,
      );
    }
    if (lineStart < 0) {
      throw new PaddockError(
        'PDK_AUDIT_CHAIN_BROKEN',
        `audit log ${path} ends with a line longer than ${MAX_RECORD_BYTES} bytes`,
      );
    }
    const line = tail.subarray(lineStart - (size - tail.length), tail.length - 1).toString('utf8');
    const record = parseRecord(line);
    if ('invalid' in record) {
      throw new PaddockError(
        'PDK_AUDIT_CHAIN_BROKEN',
        `the last record of audit log ${path} is invalid (${record.invalid}); run \`paddock audit verify ${path}\` and preserve the file`,
      );
    }
    return { seq: record.seq, hash: record.hash };
  } catch (error) {
    if (error instanceof PaddockError) throw error;
    throw new PaddockError(
      'PDK_AUDIT_READ',
      `audit log ${path} could not be read: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    await handle.close();
  }
}
