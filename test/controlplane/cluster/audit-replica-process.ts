// One control-plane replica's audit half, for the two-process audit leader test (spawned with the
// pinned Node):
//   node audit-replica-process.ts URL NAME DATA_DIR KEY_FILE
// It runs the AuditLeader exactly as `paddock serve` wires it (real PostgreSQL store, the `audit`
// election, a JSONL sink at DATA_DIR/out.jsonl, checkpoints signed with KEY_FILE and claimed under
// the term), with short intervals. It prints JSON lines on stdout: `ready`, then `leading` with
// the term whenever it becomes the leader.
import pg from 'pg';
import { AuditLeader, openClusterAuditSigner } from '../../../src/controlplane/cluster/audit-leader.ts';
import { ensureFencedRunsTable } from '../../../src/controlplane/cluster/index.ts';
import { openStore } from '../../../src/controlplane/store/open-store.ts';

const [url, name, dataDir, keyFile] = process.argv.slice(2);
if (!url || !name || !dataDir || !keyFile)
  throw new Error('usage: audit-replica-process.ts URL NAME DATA_DIR KEY_FILE');

const say = (event: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ replica: name, ...event })}\n`);

const signer = openClusterAuditSigner(keyFile);
const store = await openStore({ url });
const pool = new pg.Pool({ connectionString: url, max: 2 });
pool.on('error', () => undefined);
await ensureFencedRunsTable(pool);
const leader = await AuditLeader.start({
  url,
  pool,
  store,
  signer,
  sinks: [
    {
      type: 'jsonl',
      name: 'siem-file',
      path: 'out.jsonl',
      delivery: { batchSize: 50, batchWait: '10ms', retries: 3, backoff: '10ms', maxBackoff: '50ms' },
    },
  ],
  dataDir,
  replicaId: name,
  audit: (event) =>
    store.appendChainedAuditEvents('controlplane', [event as unknown as Record<string, unknown>]),
  checkpointIntervalMs: 150,
  feedIntervalMs: 50,
  electionRetryMs: 200,
});
say({ event: 'ready', keyId: signer.keyId });

let announced: number | undefined;
setInterval(() => {
  const term = leader.term;
  if (term !== undefined && term !== announced) say({ event: 'leading', term, at: Date.now() });
  announced = term;
}, 20);

process.once('SIGTERM', () => {
  void leader
    .stop()
    .then(() => store.close())
    .then(() => pool.end())
    .finally(() => process.exit(0));
});
