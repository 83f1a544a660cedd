// asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): a JSON header line, then one
// JSON array per event: [seconds since start, code, data]. Pure, so it is tested in Node.

export interface AsciicastHeader {
  readonly version: 2;
  readonly width: number;
  readonly height: number;
  readonly timestamp?: number;
  /** Longest pause, in seconds, kept on playback; longer idle gaps are shortened to it. */
  readonly idleTimeLimit?: number;
  readonly title?: string;
}

export interface AsciicastEvent {
  /** Seconds since the recording started. */
  readonly time: number;
  /** `o` output, `i` input, `r` resize (`COLSxROWS`), `m` marker. */
  readonly code: string;
  readonly data: string;
}

export interface Asciicast {
  readonly header: AsciicastHeader;
  readonly events: readonly AsciicastEvent[];
}

export class AsciicastError extends Error {
  override name = 'AsciicastError';
}

function positiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 10_000)
    throw new AsciicastError(`header.${field} must be a positive integer`);
  return value;
}

function parseHeader(line: string): AsciicastHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new AsciicastError('line 1: the header is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new AsciicastError('line 1: the header is not a JSON object');
  const header = raw as Record<string, unknown>;
  if (header['version'] !== 2) throw new AsciicastError('line 1: only asciicast version 2 is supported');
  const idle = header['idle_time_limit'];
  return {
    version: 2,
    width: positiveInteger(header['width'], 'width'),
    height: positiveInteger(header['height'], 'height'),
    ...(typeof header['timestamp'] === 'number' ? { timestamp: header['timestamp'] } : {}),
    ...(typeof idle === 'number' && idle > 0 ? { idleTimeLimit: idle } : {}),
    ...(typeof header['title'] === 'string' ? { title: header['title'] } : {}),
  };
}

/** Parses a whole recording; throws AsciicastError naming the first bad line. */
export function parseAsciicast(text: string): Asciicast {
  const lines = text.split('\n');
  const first = lines[0];
  if (first === undefined || first.trim() === '') throw new AsciicastError('the recording is empty');
  const header = parseHeader(first);
  const events: AsciicastEvent[] = [];
  let previous = 0;
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index] as string;
    if (line.trim() === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new AsciicastError(`line ${index + 1}: not JSON`);
    }
    if (
      !Array.isArray(raw) ||
      raw.length !== 3 ||
      typeof raw[0] !== 'number' ||
      typeof raw[1] !== 'string' ||
      typeof raw[2] !== 'string'
    )
      throw new AsciicastError(`line ${index + 1}: an event is [time, code, data]`);
    const time = raw[0];
    if (!Number.isFinite(time) || time < previous)
      throw new AsciicastError(`line ${index + 1}: times must not go backwards`);
    previous = time;
    events.push({ time, code: raw[1], data: raw[2] });
  }
  return { header, events };
}

/**
 * Playback times in seconds for each event, with idle gaps longer than `idleTimeLimit`
 * shortened to it (as asciinema's player does). Without a limit the recorded times are kept.
 */
export function playbackTimes(events: readonly AsciicastEvent[], idleTimeLimit?: number): number[] {
  const times: number[] = [];
  let recorded = 0;
  let played = 0;
  for (const event of events) {
    const gap = event.time - recorded;
    played += idleTimeLimit === undefined ? gap : Math.min(gap, idleTimeLimit);
    recorded = event.time;
    times.push(played);
  }
  return times;
}

/** `COLSxROWS` of a resize event, or undefined when malformed. */
export function parseResize(data: string): { cols: number; rows: number } | undefined {
  const match = /^(\d{1,4})x(\d{1,4})$/.exec(data);
  if (!match) return undefined;
  const cols = Number(match[1]);
  const rows = Number(match[2]);
  return cols > 0 && rows > 0 ? { cols, rows } : undefined;
}
