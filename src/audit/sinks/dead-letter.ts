import { appendFile, chmod, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '../../core/clock.ts';
import type { OcsfEvent } from '../events/types.ts';

// A sink's dead-letter file: JSON lines, mode 0600 in a 0700 directory, one line per event it
// could not deliver, with why. Appends are serialised so lines never interleave; the file is a
// replayable record (`event` is the OCSF event as it was queued).

export interface DeadLetterLine {
  readonly time: string;
  readonly sink: string;
  readonly reason: string;
  readonly event: OcsfEvent;
}

export class DeadLetterFile {
  readonly path: string;
  private readonly sink: string;
  private readonly clock: Clock;
  private tail: Promise<void> = Promise.resolve();
  private prepared = false;
  private secured = false;

  constructor(path: string, sink: string, clock: Clock) {
    this.path = path;
    this.sink = sink;
    this.clock = clock;
  }

  /** Appends `events` with `reason`; resolves when written (never rejects: failures are returned). */
  append(events: readonly OcsfEvent[], reason: string): Promise<Error | undefined> {
    if (events.length === 0) return Promise.resolve(undefined);
    const time = new Date(this.clock.now()).toISOString();
    let text = '';
    for (const event of events) {
      const line: DeadLetterLine = { time, sink: this.sink, reason, event };
      text += `${JSON.stringify(line)}\n`;
    }
    const written = this.tail.then(() => this.write(text));
    this.tail = written.then(
      () => undefined,
      () => undefined,
    );
    return written.then(
      () => undefined,
      (error: Error) => error,
    );
  }

  /** Resolves when every append so far is on disk (or failed). */
  settled(): Promise<void> {
    return this.tail;
  }

  private async write(text: string): Promise<void> {
    if (!this.prepared) {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      this.prepared = true;
    }
    await appendFile(this.path, text, { mode: 0o600 });
    if (!this.secured) {
      // appendFile's mode applies only when it creates the file: an older file is narrowed once.
      await chmod(this.path, 0o600);
      this.secured = true;
    }
  }
}
