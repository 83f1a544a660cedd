import { type FileHandle, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Clock } from '../../core/clock.ts';
import { auditRotatedEvent } from '../events/event-log.ts';
import type { OcsfEvent } from '../events/types.ts';
import type { JsonlSinkConfig } from './config.ts';
import { sinkUnavailable } from './failure.ts';
import type { SinkTransport } from './runner.ts';

// OCSF events as JSON lines in a file (mode 0600), rotated by size and, if asked, when the UTC
// day changes. Rotation renames the live file aside in one rename(2) (atomic: a reader sees
// the old file whole or the new one), begins a new file, deletes the oldest rotated files
// beyond `keep`, and reports an `audit.rotated` event through `onRotated`. A batch is never
// split across files: the file rotates before a batch that would take it past maxBytes.

const ROTATED = /^\d{8}T\d{9}Z(?:-\d+)?$/;

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export class JsonlTransport implements SinkTransport {
  private readonly config: JsonlSinkConfig;
  private readonly path: string;
  private readonly clock: Clock;
  private readonly onRotated: (event: OcsfEvent) => void;
  private file: FileHandle | undefined;
  private size = 0;
  private day = '';

  constructor(config: JsonlSinkConfig, path: string, clock: Clock, onRotated: (event: OcsfEvent) => void) {
    this.config = config;
    this.path = path;
    this.clock = clock;
    this.onRotated = onRotated;
  }

  async deliver(events: readonly OcsfEvent[]): Promise<undefined> {
    let text = '';
    for (const event of events) text += `${JSON.stringify(event)}\n`;
    const bytes = Buffer.byteLength(text);
    try {
      const file = await this.live();
      const maxBytes = this.config.maxBytes ?? 100 * 1024 * 1024;
      const now = this.clock.now();
      if (this.size > 0 && this.size + bytes > maxBytes) await this.rotate('size');
      else if (this.config.daily && this.size > 0 && utcDay(now) !== this.day) await this.rotate('daily');
      await (this.file ?? file).appendFile(text);
      this.size += bytes;
    } catch (error) {
      // A failed write may have left part of a line: close, and the next attempt reopens.
      await this.file?.close().catch(() => {});
      this.file = undefined;
      throw sinkUnavailable(this.config.name, `cannot write ${this.path}: ${(error as Error).message}`);
    }
    return undefined;
  }

  async close(): Promise<void> {
    await this.file?.close();
    this.file = undefined;
  }

  private async live(): Promise<FileHandle> {
    if (this.file) return this.file;
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const file = await open(this.path, 'a', 0o600);
    const info = await file.stat();
    this.size = info.size;
    this.day = utcDay(info.size > 0 ? info.mtimeMs : this.clock.now());
    this.file = file;
    return file;
  }

  private async rotate(reason: 'size' | 'daily'): Promise<void> {
    const rotatedSize = this.size;
    await this.file?.close();
    this.file = undefined;
    const target = await this.rotatedName();
    await rename(this.path, target);
    await this.live();
    const deleted = await this.prune();
    this.onRotated(
      auditRotatedEvent({
        sinkName: this.config.name,
        path: this.path,
        rotatedTo: target,
        sizeBytes: rotatedSize,
        reason,
        deleted,
      }),
    );
  }

  /**
   * `<path>.<timestamp>`, or with a zero-padded suffix above any taken for that timestamp, so
   * names sort in rotation order even when rotations share a millisecond (and pruning has
   * freed a lower name).
   */
  private async rotatedName(): Promise<string> {
    const name = `${basename(this.path)}.${stamp(this.clock.now())}`;
    let highest = -1;
    for (const entry of await readdir(dirname(this.path))) {
      if (entry === name) highest = Math.max(highest, 0);
      else if (entry.startsWith(`${name}-`))
        highest = Math.max(highest, Number(entry.slice(name.length + 1)) || 0);
    }
    const chosen = highest < 0 ? name : `${name}-${String(highest + 1).padStart(4, '0')}`;
    return join(dirname(this.path), chosen);
  }

  /** Deletes rotated files beyond `keep`, oldest first (their names sort by time). */
  private async prune(): Promise<string[]> {
    const prefix = `${basename(this.path)}.`;
    const rotated = (await readdir(dirname(this.path)))
      .filter((name) => name.startsWith(prefix) && ROTATED.test(name.slice(prefix.length)))
      .sort();
    const excess = rotated.slice(0, Math.max(0, rotated.length - (this.config.keep ?? 10)));
    for (const name of excess) await unlink(join(dirname(this.path), name));
    return excess.map((name) => join(dirname(this.path), name));
  }
}
