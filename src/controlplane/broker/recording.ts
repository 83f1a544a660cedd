import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, type ReadStream, type WriteStream } from 'node:fs';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { PaddockError } from '../../core/errors.ts';
import type { TerminalSize } from './terminal-target.ts';

// Terminal recordings as asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): a
// header line, then one JSON array per event, `[seconds, "o", text]` for output and
// `[seconds, "r", "COLSxROWS"]` for resizes. Input ("i") is off by default: keystrokes carry
// passwords and tokens typed at prompts that do not echo them, which output never shows.
// The file is streamed to disk as the terminal runs (never held whole in memory), mode 0600,
// in a directory outside every workspace, and hashed as it is written; the SHA-256 is sealed
// into a sidecar `ID.json` and the `terminal.recorded` audit event when the terminal closes.

/** Recording ids are the broker's attach ids: UUIDs, so a path can never be smuggled in. */
/** Events are written at most this long after they happen, or once this many bytes wait. */
const FLUSH_MS = 50;
const FLUSH_BYTES = 64 * 1024;

const RECORDING_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What the sidecar says about one recording. */
export interface RecordingInfo {
  readonly id: string;
  readonly workspaceId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly cols: number;
  readonly rows: number;
  /** Milliseconds since the epoch. */
  readonly startedAt: number;
  /** Absent while the terminal is live. */
  readonly endedAt?: number;
  /** Lower-case hex SHA-256 of the `.cast` file; absent while live. */
  readonly sha256?: string;
  readonly sizeBytes?: number;
  readonly closeReason?: string;
  readonly exitCode?: number | null;
}

export interface RecordingStart {
  readonly id: string;
  readonly workspaceId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly size: TerminalSize;
  /** Shown as the player's title. */
  readonly title?: string;
  /** Record what the user typed as "i" events too. Default false (see above). */
  readonly recordInput?: boolean;
  readonly now?: () => number;
}

/** The sealed result of a recording. */
export interface SealedRecording {
  readonly path: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly info: RecordingInfo;
}

function checkId(id: string): void {
  if (!RECORDING_ID.test(id))
    throw new PaddockError('PDK_BROKER_RECORDING_NOT_FOUND', 'no recording with that id');
}

/** The recordings directory, created 0700 if missing. */
export function ensureRecordingsDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** One terminal's recording, written as it happens. */
export class RecordingWriter {
  readonly path: string;
  private readonly dir: string;
  private readonly start: RecordingStart;
  private readonly out: WriteStream;
  private readonly hash: Hash = createHash('sha256');
  private readonly decoder = new StringDecoder('utf8');
  private readonly inputDecoder = new StringDecoder('utf8');
  private readonly startedAt: number;
  private readonly now: () => number;
  private bytes = 0;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private sealed: Promise<SealedRecording> | undefined;

  private constructor(dir: string, start: RecordingStart) {
    this.dir = dir;
    this.start = start;
    this.now = start.now ?? Date.now;
    this.startedAt = this.now();
    this.path = join(dir, `${start.id}.cast`);
    // 'wx': never follow or reuse an existing file; 0600: only the control plane reads it.
    this.out = createWriteStream(this.path, { flags: 'wx', mode: 0o600 });
    this.out.on('error', (error) => {
      this.failure ??= error;
    });
  }

  /**
   * Creates `DIR/ID.cast` and its live sidecar, and writes the header. Rejects with
   * PDK_BROKER_RECORDING when the directory cannot take it (the attach is then refused).
   */
  static async open(dir: string, start: RecordingStart): Promise<RecordingWriter> {
    checkId(start.id);
    try {
      ensureRecordingsDir(dir);
      const writer = new RecordingWriter(dir, start);
      await new Promise<void>((resolve, reject) => {
        writer.out.once('open', () => resolve());
        writer.out.once('error', reject);
      });
      await writer.writeSidecar(writer.liveInfo());
      writer.line({
        version: 2,
        width: start.size.cols,
        height: start.size.rows,
        timestamp: Math.floor(writer.startedAt / 1000),
        title: start.title,
        env: { TERM: 'xterm-256color', SHELL: '/bin/bash' },
      });
      return writer;
    } catch (error) {
      throw new PaddockError('PDK_BROKER_RECORDING', `cannot create a recording in ${dir}`, { cause: error });
    }
  }

  /** Bytes handed to the file but not yet on disk, for the broker's backlog bound. */
  get backlogBytes(): number {
    return this.batchBytes + this.out.writableLength;
  }

  /** Terminal output bytes; a UTF-8 sequence split across chunks is kept whole. */
  output(data: Uint8Array): void {
    const text = this.decoder.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    if (text) this.event('o', text);
  }

  /** What the user typed; recorded only when the recording was opened with recordInput. */
  input(data: Uint8Array): void {
    if (!this.start.recordInput) return;
    const text = this.inputDecoder.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    if (text) this.event('i', text);
  }

  resize(size: TerminalSize): void {
    this.event('r', `${size.cols}x${size.rows}`);
  }

  /** Flushes, closes and hashes the file and seals the sidecar. Idempotent. */
  seal(outcome: { closeReason: string; exitCode?: number | null }): Promise<SealedRecording> {
    this.sealed ??= this.doSeal(outcome);
    return this.sealed;
  }

  private async doSeal(outcome: { closeReason: string; exitCode?: number | null }): Promise<SealedRecording> {
    const rest = this.decoder.end();
    if (rest) this.event('o', rest);
    this.flush();
    await new Promise<void>((resolve) => this.out.end(resolve));
    if (this.failure) {
      throw new PaddockError('PDK_BROKER_RECORDING', `recording ${this.path} failed`, {
        cause: this.failure,
      });
    }
    const sha256 = this.hash.digest('hex');
    const info: RecordingInfo = {
      ...this.liveInfo(),
      endedAt: this.now(),
      sha256,
      sizeBytes: this.bytes,
      closeReason: outcome.closeReason,
      exitCode: outcome.exitCode,
    };
    await this.writeSidecar(info);
    return { path: this.path, sha256, sizeBytes: this.bytes, info };
  }

  private liveInfo(): RecordingInfo {
    const { id, workspaceId, userId, sessionId, size } = this.start;
    return {
      id,
      workspaceId,
      userId,
      sessionId,
      cols: size.cols,
      rows: size.rows,
      startedAt: this.startedAt,
    };
  }

  private event(code: 'o' | 'i' | 'r', data: string): void {
    if (this.sealed) return;
    const seconds = Math.round(this.now() - this.startedAt) / 1000;
    this.line([seconds, code, data]);
  }

  private line(value: unknown): void {
    const chunk = Buffer.from(`${JSON.stringify(value)}\n`);
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    // Batched: one write per FLUSH_MS rather than one per keystroke echo (a thread-pool
    // round trip each), which kept the relay's tail latency up under load.
    this.batch.push(chunk);
    this.batchBytes += chunk.byteLength;
    if (this.batchBytes >= FLUSH_BYTES) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.batch.length === 0) return;
    this.out.write(this.batch.length === 1 ? (this.batch[0] as Buffer) : Buffer.concat(this.batch));
    this.batch = [];
    this.batchBytes = 0;
  }

  /** Written beside, then renamed over: a reader never sees half a sidecar. */
  private async writeSidecar(info: RecordingInfo): Promise<void> {
    const final = join(this.dir, `${info.id}.json`);
    const temporary = `${final}.tmp`;
    await writeFile(temporary, `${JSON.stringify(info)}\n`, { mode: 0o600 });
    await rename(temporary, final);
  }
}

/**
 * Every recording's sidecar in `dir`, newest first, optionally of one workspace. Live
 * recordings are listed without sha256 and endedAt.
 * @example await listRecordings(join(dataDir, 'recordings'), { workspaceId: 'ws-alice' })
 */
export async function listRecordings(
  dir: string,
  filter: { readonly workspaceId?: string } = {},
): Promise<RecordingInfo[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const infos: RecordingInfo[] = [];
  for (const name of names) {
    if (!name.endsWith('.json') || !RECORDING_ID.test(name.slice(0, -5))) continue;
    try {
      const info = JSON.parse(await readFile(join(dir, name), 'utf8')) as RecordingInfo;
      if (filter.workspaceId === undefined || info.workspaceId === filter.workspaceId) infos.push(info);
    } catch {
      // a sidecar being replaced right now; it is listed next time
    }
  }
  return infos.sort((a, b) => b.startedAt - a.startedAt);
}

/**
 * One recording: its sidecar and a stream of its asciicast file. Throws
 * PDK_BROKER_RECORDING_NOT_FOUND for an unknown or malformed id. The caller checks that the
 * principal may see `info` (its owner, or an admin) before sending the stream.
 */
export async function readRecording(
  dir: string,
  id: string,
): Promise<{ readonly info: RecordingInfo; open(): ReadStream }> {
  checkId(id);
  let info: RecordingInfo;
  try {
    info = JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as RecordingInfo;
  } catch (error) {
    throw new PaddockError('PDK_BROKER_RECORDING_NOT_FOUND', 'no recording with that id', { cause: error });
  }
  return { info, open: () => createReadStream(join(dir, `${id}.cast`)) };
}
