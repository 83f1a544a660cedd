// The control-plane side of the fault test, run as its own process (so it can be killed -9):
// the real store and ingest behind the audit socket stand-in, and a checkpointer every 100 ms.
//   node ingest-process.ts STORE_URL SOCKET_PATH SOURCE KEY_FILE
import { rmSync } from 'node:fs';
import { openFileSigner } from '../../../../src/audit/index.ts';
import { AuditCheckpointer, openStore, receiveAuditBatch } from '../../../../src/controlplane/index.ts';
import { serveAuditSocket } from '../../../support/audit-socket.ts';

const [url, socketPath, source, keyFile] = process.argv.slice(2) as [string, string, string, string];
const store = await openStore({ url });
const checkpointer = new AuditCheckpointer(store, openFileSigner(keyFile), { intervalMs: 100 });
checkpointer.start();
rmSync(socketPath, { force: true });
await serveAuditSocket(socketPath, (message) => receiveAuditBatch(store, message, source));
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await checkpointer.stop();
  await store.close();
  process.exit(0);
});
