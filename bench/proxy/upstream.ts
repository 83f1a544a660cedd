// Benchmark upstreams, in their own process: a minimal HTTP/1.1 server and the same over TLS
// (the bulk source of part (a) is C: bulk-endpoints.c).
// Both HTTP servers answer every request head with a fixed 2-byte response and keep the
// connection alive; they do no parsing beyond finding the end of each head, so the proxy
// under test, not the upstream, is what the figures measure. Prints its ports as JSON.
import { createServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { writeFileSync } from 'node:fs';
import { createEphemeralWorkspaceCa } from '../../src/supervisor/egress/index.ts';

const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok');
const END = Buffer.from('\r\n\r\n');

function http(socket: Socket): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.setNoDelay?.(true);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = pending.indexOf(END);
    while (at >= 0) {
      socket.write(RESPONSE);
      pending = pending.subarray(at + 4);
      at = pending.indexOf(END);
    }
  });
  socket.on('error', () => socket.destroy());
}

const ca = createEphemeralWorkspaceCa({ commonName: 'bench-upstream' });
const caFile = process.argv[2]!;
writeFileSync(caFile, ca.certPem);
const listen = (server: ReturnType<typeof createServer>) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
const ports = {
  http: await listen(createServer(http)),
  https: await listen(
    createTlsServer(
      { SNICallback: (name, callback) => callback(null, ca.secureContextFor(name || '127.0.0.1')) },
      (socket) => http(socket as unknown as Socket),
    ),
  ),
};
process.stdout.write(`${JSON.stringify(ports)}\n`);
