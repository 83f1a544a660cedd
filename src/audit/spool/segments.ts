import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { linkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PaddockError } from '../../core/errors.ts';
import { GENESIS_HASH } from '../chain/record.ts';
import type { ChainTail } from '../chain/tail.ts';

// The spool's files: segments `segment-<first seq, 16 digits>.jsonl` holding consecutive
// chain records (the chain runs on across segments), and `acknowledged.json`, the cursor of
// what the control plane confirmed it stored.

export interface Segment {
  /** Sequence number of its first record (from the name). */
  readonly first: number;
  readonly path: string;
}

const SEGMENT = /^segment-(\d{16})\.jsonl$/;
const CURSOR_FILE = 'acknowledged.json';

export function segmentPath(dir: string, first: number): string {
  return join(dir, `segment-${String(first).padStart(16, '0')}.jsonl`);
}

/** The segments in `dir`, oldest first (creating the directory, mode 0700, when missing). */
export async function listSegments(dir: string): Promise<Segment[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const segments: Segment[] = [];
  for (const name of await readdir(dir)) {
    const match = SEGMENT.exec(name);
    if (match) segments.push({ first: Number(match[1]), path: join(dir, name) });
  }
  return segments.sort((a, b) => a.first - b.first);
}

/**
 * Cuts a torn final record off a segment: the bytes after its last newline are a write the
 * crash interrupted (our writer ends every write with a newline, and no caller was told such
 * a record was durable, since append resolves only after fdatasync). Resolves to the number
 * of bytes removed. A complete but invalid last line is not torn: the writer's open refuses it.
 */
export async function truncateTornTail(path: string): Promise<number> {
  const handle = await open(path, 'r+').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw readError(path, error);
  });
  if (!handle) return 0;
  try {
    const { size } = await handle.stat();
    let end = size;
    const chunk = Buffer.alloc(64 * 1024);
    // Walk back to the last newline.
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      const newline = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (newline >= 0) {
        end = start + newline + 1;
        break;
      }
      end = start;
    }
    if (end === size) return 0;
    await handle.truncate(end);
    await handle.sync();
    return size - end;
  } finally {
    await handle.close();
  }
}

/** The acknowledged cursor; genesis when none was written. */
export async function readCursor(dir: string): Promise<ChainTail> {
  let text: string;
  try {
    text = await readFile(join(dir, CURSOR_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { seq: 0, hash: GENESIS_HASH };
    throw readError(join(dir, CURSOR_FILE), error);
  }
  const value = JSON.parse(text) as { seq?: unknown; hash?: unknown };
  if (!Number.isSafeInteger(value.seq) || typeof value.hash !== 'string') {
    throw new PaddockError('PDK_AUDIT_READ', `spool cursor ${join(dir, CURSOR_FILE)} is not {seq, hash}`);
  }
  return { seq: value.seq as number, hash: value.hash };
}

/**
 * Replaces the cursor atomically (write, fsync, rename). Losing an update to a crash only
 * means events are sent again, which ingest skips; a torn cursor is impossible.
 */
export async function writeCursor(dir: string, cursor: ChainTail): Promise<void> {
  const path = join(dir, CURSOR_FILE);
  const temporary = `${path}.tmp`;
  await writeFile(temporary, JSON.stringify({ seq: cursor.seq, hash: cursor.hash }), {
    mode: 0o600,
    flush: true,
  });
  await rename(temporary, path);
}

export async function removeSegment(segment: Segment): Promise<void> {
  await rm(segment.path, { force: true });
}

function readError(path: string, error: unknown): PaddockError {
  return new PaddockError(
    'PDK_AUDIT_READ',
    `audit spool file ${path} could not be read: ${(error as Error).message}`,
    {
      cause: error,
    },
  );
}

const LOCK_FILE = 'spool.lock';

/**
 * Takes the spool directory for this process: two writers would fork the chain. The lock file
 * names the owner's pid; one whose process is gone (a crash) is taken over. Resolves to the
 * release function. Throws PDK_AUDIT_WRITE while another live process holds it.
 */
export async function lockSpool(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, String(process.pid), { mode: 0o600 });
    try {
      linkSync(temporary, path); // fails when the name exists: creation and content in one step
      return async () => {
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(temporary, { force: true });
    }
    const owner = Number(await readFile(path, 'utf8').catch(() => ''));
    if (Number.isSafeInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new PaddockError(
        'PDK_AUDIT_WRITE',
        `audit spool ${dir} is in use by process ${owner}${owner === process.pid ? ' (this one)' : ''}: one writer per spool, or its chain forks`,
      );
    }
    await rm(path, { force: true }); // left by a process that is gone
  }
  throw new PaddockError(
    'PDK_AUDIT_WRITE',
    `audit spool ${dir} could not be locked: its lock file keeps changing`,
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
