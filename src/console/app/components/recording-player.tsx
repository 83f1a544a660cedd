// Plays an asciicast v2 recording into a read-only xterm, honouring its timings.
import { Terminal } from '@xterm/xterm';
import { useCallback, useEffect, useRef, useState } from 'react';
import { requestText } from '../api.ts';
import { type Asciicast, parseAsciicast, parseResize, playbackTimes } from '../asciicast.ts';
import { XTERM_OPTIONS } from './xterm-options.ts';

interface RecordingPlayerProps {
  readonly recordingId: string;
  readonly onClose: () => void;
}

interface Loaded {
  readonly cast: Asciicast;
  readonly times: readonly number[];
}

export function RecordingPlayer({ recordingId, onClose }: RecordingPlayerProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  const terminalRef = useRef<Terminal | null>(null);
  const [loaded, setLoaded] = useState<Loaded>();
  const [error, setError] = useState<string>();
  const [playing, setPlaying] = useState(false);
  const [position, setPosition] = useState(0); // index of the next event to play
  const [run, setRun] = useState(0); // bumped by Restart, so the schedule starts over
  const positionRef = useRef(0);

  useEffect(() => {
    let cancelled = false;
    setLoaded(undefined);
    setError(undefined);
    requestText(`/api/recordings/${encodeURIComponent(recordingId)}`)
      .then((text) => {
        if (cancelled) return;
        const cast = parseAsciicast(text);
        setLoaded({ cast, times: playbackTimes(cast.events, cast.header.idleTimeLimit) });
        positionRef.current = 0;
        setPosition(0);
        setPlaying(true);
      })
      .catch((cause: unknown) => {
        if (!cancelled) setError(cause instanceof Error ? cause.message : String(cause));
      });
    return () => {
      cancelled = true;
    };
  }, [recordingId]);

  // One terminal per loaded recording, sized as recorded.
  useEffect(() => {
    const host = hostRef.current;
    if (!loaded || !host) return;
    const terminal = new Terminal({
      ...XTERM_OPTIONS,
      cols: loaded.cast.header.width,
      rows: loaded.cast.header.height,
      disableStdin: true,
      cursorBlink: false,
    });
    terminal.open(host);
    terminalRef.current = terminal;
    return () => {
      terminalRef.current = null;
      terminal.dispose();
    };
  }, [loaded]);

  // While playing, schedule the next event at its time relative to the current one.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `run` restarts the schedule on purpose.
  useEffect(() => {
    if (!loaded || !playing) return;
    const { cast, times } = loaded;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const step = () => {
      const index = positionRef.current;
      const event = cast.events[index];
      const terminal = terminalRef.current;
      if (!event || !terminal) {
        setPlaying(false);
        return;
      }
      if (event.code === 'o') terminal.write(event.data);
      else if (event.code === 'r') {
        const size = parseResize(event.data);
        if (size) terminal.resize(size.cols, size.rows);
      }
      positionRef.current = index + 1;
      setPosition(index + 1);
      const next = times[index + 1];
      if (next === undefined) {
        setPlaying(false);
        return;
      }
      timer = setTimeout(step, Math.max(0, (next - (times[index] ?? 0)) * 1000));
    };
    const first = times[positionRef.current];
    const before = positionRef.current > 0 ? (times[positionRef.current - 1] ?? 0) : 0;
    timer = setTimeout(step, first === undefined ? 0 : Math.max(0, (first - before) * 1000));
    return () => clearTimeout(timer);
  }, [loaded, playing, run]);

  const restart = useCallback(() => {
    terminalRef.current?.reset();
    positionRef.current = 0;
    setPosition(0);
    setPlaying(true);
    setRun((value) => value + 1);
  }, []);

  const total = loaded ? (loaded.times.at(-1) ?? 0) : 0;
  const played = loaded && position > 0 ? (loaded.times[position - 1] ?? 0) : 0;
  const finished = loaded !== undefined && position >= loaded.cast.events.length;

  return (
    <section className="panel" aria-labelledby="player-heading" data-testid="recording-player">
      <div className="panel-header">
        <h3 id="player-heading">Recording {recordingId}</h3>
        <div className="button-row">
          <button
            type="button"
            className="button"
            disabled={!loaded || finished}
            onClick={() => setPlaying((value) => !value)}
            data-testid="recording-play"
          >
            {playing ? 'Pause' : 'Play'}
          </button>
          <button
            type="button"
            className="button secondary"
            disabled={!loaded}
            onClick={restart}
            data-testid="recording-restart"
          >
            Restart
          </button>
          <button type="button" className="button secondary" onClick={onClose} data-testid="recording-close">
            Close
          </button>
        </div>
      </div>
      {error ? (
        <p className="error" role="alert">
          This recording cannot be played: {error}
        </p>
      ) : null}
      <p
        className="muted"
        data-testid="recording-progress"
        data-state={finished ? 'finished' : playing ? 'playing' : 'paused'}
      >
        {played.toFixed(1)} s of {total.toFixed(1)} s
      </p>
      <div className="terminal-host player-host" ref={hostRef} data-testid="recording-terminal" />
    </section>
  );
}
