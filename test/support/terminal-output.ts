// Test support: a terminal's output as text, waited on by pattern, and its end. Any terminal
// with onData and onExit: the broker's (Terminal) and the workspace supervisor's
// (WorkspaceTerminal) alike.

interface TerminalLike<End> {
  onData(listener: (data: Uint8Array) => void): void;
  onExit(listener: (end: End) => void): void;
}

export function collect<End>(terminal: TerminalLike<End>, defaultTimeoutMs = 10_000) {
  let text = '';
  const waiters: (() => void)[] = [];
  terminal.onData((data) => {
    text += Buffer.from(data).toString('utf8');
    for (const waiter of waiters.splice(0)) waiter();
  });
  const exit = new Promise<End>((resolve) => terminal.onExit(resolve));
  return {
    get text() {
      return text;
    },
    exit,
    until(pattern: RegExp, timeoutMs = defaultTimeoutMs): Promise<RegExpMatchArray> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${pattern} in ${JSON.stringify(text.slice(-1500))}`)),
          timeoutMs,
        );
        const look = () => {
          const match = text.match(pattern);
          if (match) {
            clearTimeout(timer);
            resolve(match);
          } else waiters.push(look);
        };
        look();
      });
    },
  };
}
