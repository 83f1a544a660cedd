// The supervisor side of the fault test, run as its own process (so it can be killed -9):
// appends events to a real spool, printing `durable SEQ UID` once each append resolved (what the
// action it records may then report as done), and ships every 20 ms over the audit socket
// stand-in, printing `acked SEQ`. Event numbers continue after the spool's seq on restart.
// Stops with `done SEQ` once events up to number TOTAL are appended and all is acknowledged.
//   node shipper-process.ts SPOOL_DIR SOCKET_PATH SOURCE TOTAL
import { AuditSpool } from '../../../../src/audit/index.ts';
import { socketTransport } from '../../../support/audit-socket.ts';

const [dir, socketPath, source, totalText] = process.argv.slice(2) as [string, string, string, string];
const total = Number(totalText);
const spool = await AuditSpool.open(dir, { source, maxSegmentBytes: 16 * 1024 });
process.stdout.write(`opened ${spool.seq} recovered ${spool.recoveredBytes}\n`);
const transport = socketTransport(socketPath, 2000);

async function shipLoop(): Promise<void> {
  for (;;) {
    try {
      const { acknowledged } = await spool.ship(transport, { maxBatchEvents: 50 });
      process.stdout.write(`acked ${acknowledged}\n`);
      if (next >= total && acknowledged >= spool.seq) return;
    } catch (error) {
      // The control plane is down or restarting: try again shortly.
      process.stderr.write(`ship failed: ${(error as Error).message}\n`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const shipping = shipLoop();
// Four concurrent appenders, so kills land in group commits and mid-write.
let next = spool.seq;
await Promise.all(
  Array.from({ length: 4 }, async () => {
    while (next < total) {
      next += 1;
      const n = next;
      const record = await spool.append({
        class_uid: 4001,
        metadata: { uid: `${source}-ev-${n}`, event_code: 'egress.allowed' },
        device: { uid: source },
        message: `connection ${n}`,
        padding: 'p'.repeat(200),
      });
      process.stdout.write(`durable ${record.seq} ${source}-ev-${n}\n`);
      await new Promise((resolve) => setTimeout(resolve, 10)); // paced, so the kills land mid-stream
    }
  }),
);
await shipping;
// Rotation records appended after the last event still need their ack.
while (spool.acknowledged.seq < spool.seq) {
  await spool.ship(transport).catch(() => new Promise((resolve) => setTimeout(resolve, 20)));
}
transport.close();
await spool.close();
process.stdout.write(`done ${spool.seq}\n`);
