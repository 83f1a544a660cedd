// The broker under benchmark, in its own process (as the control plane runs it): an HTTP
// server with the terminal route, a bearer token for one user, every attach a real `cat` on a
// real pty, recorded to a temporary directory. Prints `PORT\n` on stdout when listening.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTerminalBroker } from '../../src/controlplane/broker/terminal-broker.ts';
import { principal } from '../../test/controlplane/broker/support/broker-server.ts';
import { barePtyTarget, sandboxTarget } from '../../test/controlplane/broker/support/targets.ts';
import { makeWorkspace } from '../../test/support/sandbox-harness.ts';

const TOKEN = process.argv[2] ?? 'bench-token';
const dir = mkdtempSync(join(tmpdir(), 'pdk-bench-broker-'));
const broker = createTerminalBroker({
  recordingsDir: join(dir, 'recordings'),
  audit: async () => {},
  allowedOrigins: [],
});
const workspace = makeWorkspace('pdk-bench-ws-');
const targets = {
  'ws-bench': barePtyTarget('ws-bench', '/bin/cat'),
  // The same `cat`, inside a real agent sandbox per terminal.
  'ws-sandbox': sandboxTarget('ws-sandbox', workspace.dir, ['cat']),
};
const who = principal('bench@example.com', 'sess-bench');
const server = createServer((_request, response) => response.writeHead(404).end());
server.on('upgrade', (request, socket, head) => {
  if (request.headers.authorization !== `Bearer ${TOKEN}`) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  const id = /^\/api\/workspaces\/([^/?]+)\/terminal/.exec(request.url ?? '')?.[1] as keyof typeof targets;
  const target = targets[id];
  if (!target) {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  void broker.handleUpgrade(request, socket, head, who, target);
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
const stop = async () => {
  await broker.close();
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
  workspace.remove();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop); // the benchmark died: do not outlive it
process.stdin.resume();
