import { connect, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { type AuditReply, type AuditTransport, parseAuditReply } from '../../src/audit/index.ts';

// Test support: the audit shipping protocol as JSON lines over a unix socket, one reply per
// batch, in order. A stand-in for the workspace channel (which carries the same messages in
// production), so that the spool and the ingest can run in separate processes and be killed.

/** Serves `handle` on a unix socket; each line is one message, each reply one line. */
export function serveAuditSocket(
  path: string,
  handle: (message: unknown) => Promise<unknown>,
): Promise<Server> {
  const server = createServer((socket) => {
    let chain = Promise.resolve();
    const lines = createInterface({ input: socket });
    lines.on('error', () => {});
    lines.on('line', (line) => {
      chain = chain.then(async () => {
        const reply = await handle(JSON.parse(line));
        if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
      });
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

/** An AuditTransport over the socket at `path`; reconnects after any failure. */
export function socketTransport(path: string, timeoutMs = 5000): AuditTransport & { close(): void } {
  let socket: Socket | undefined;
  let waiting: ((line: string) => void) | undefined;
  let failing: ((error: Error) => void) | undefined;
  const drop = (error: Error) => {
    socket?.destroy();
    socket = undefined;
    failing?.(error);
    waiting = undefined;
    failing = undefined;
  };
  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect(path);
      s.once('connect', () => {
        s.removeListener('error', reject);
        s.on('error', (error) => drop(error));
        s.on('close', () => drop(new Error('audit socket closed')));
        const lines = createInterface({ input: s });
        lines.on('error', () => {}); // the socket's own error handler drops the connection
        lines.on('line', (line) => {
          const done = waiting;
          waiting = undefined;
          failing = undefined;
          done?.(line);
        });
        resolve(s);
      });
      s.once('error', reject);
    });
  return {
    async send(batch): Promise<AuditReply> {
      socket ??= await open();
      const current = socket;
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => drop(new Error('audit socket timed out')), timeoutMs);
        waiting = (text) => {
          clearTimeout(timer);
          resolve(text);
        };
        failing = (error) => {
          clearTimeout(timer);
          reject(error);
        };
        current.write(`${JSON.stringify(batch)}\n`);
      });
      return parseAuditReply(JSON.parse(line), batch.source);
    },
    close() {
      socket?.destroy();
      socket = undefined;
    },
  };
}
