import type { Terminal, TerminalExit } from '../../../src/controlplane/broker/terminal-target.ts';

// Test support: a terminal's output as text, waited on by pattern, and its exit.

export function collect(terminal: Terminal) {
  let text = '';
  const waiters: (() => void)[] = [];
  terminal.onData((data) => {
    text += Buffer.from(data).toString('utf8');
    for (const waiter of waiters.splice(0)) waiter();
  });
  const exit = new Promise<TerminalExit>((resolve) => terminal.onExit(resolve));
  return {
    get text() {
      return text;
    },
    exit,
    until(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${pattern} in ${JSON.stringify(text.slice(-500))}`)),
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
