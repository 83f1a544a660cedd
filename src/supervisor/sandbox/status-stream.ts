// Reads bubblewrap's --json-status-fd: a sequence of JSON objects, {"child-pid": N} once the
// command is about to run and {"exit-code": N} when it ended. The first tells a setup failure
// (no child) apart from a command that failed; the second is the command's own status.

export interface StatusReport {
  readonly childPid?: number;
  readonly exitCode?: number;
}

export interface StatusStream {
  /** The command's pid inside the sandbox, or undefined when the stream ended without one. */
  readonly childPid: Promise<number | undefined>;
  /** Everything reported, once the stream has ended. */
  readonly done: Promise<StatusReport>;
}

/** Bounded: bwrap writes two short objects; anything longer is not bwrap talking. */
const MAX_STATUS_BYTES = 64 * 1024;

export function readStatusStream(stream: NodeJS.ReadableStream | undefined): StatusStream {
  if (!stream) return { childPid: Promise.resolve(undefined), done: Promise.resolve({}) };
  let text = '';
  let report: { childPid?: number; exitCode?: number } = {};
  let announce: (pid: number | undefined) => void = () => {};
  const childPid = new Promise<number | undefined>((resolve) => {
    announce = resolve;
  });
  const parse = () => {
    // Objects are written whole, one after another; split them at the top-level braces.
    let depth = 0;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) {
        const object = JSON.parse(text.slice(start, i + 1)) as Record<string, unknown>;
        if (typeof object['child-pid'] === 'number') {
          report = { ...report, childPid: object['child-pid'] };
          announce(object['child-pid']);
        }
        if (typeof object['exit-code'] === 'number') report = { ...report, exitCode: object['exit-code'] };
        start = i + 1;
      }
    }
    text = text.slice(start);
  };
  const done = new Promise<StatusReport>((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      if (text.length + chunk.length > MAX_STATUS_BYTES) return;
      text += chunk.toString('utf8');
      try {
        parse();
      } catch {
        text = '';
      }
    });
    const end = () => {
      announce(report.childPid);
      resolve(report);
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  });
  return { childPid, done };
}
