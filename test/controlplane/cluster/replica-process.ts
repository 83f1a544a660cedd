// One control-plane replica for the two-process tests (spawned with the pinned Node):
//   node replica-process.ts URL NAME
// It campaigns for the `reconciler` election and, while leader, runs (LeaderLoop) a fenced "apply" every
// 20 ms: the next apply number, recorded with its term in cluster_test_applies. It also
// listens on the reviews topic and publishes what it reads on stdin (`publish JSON`).
// Everything it does is printed as JSON lines on stdout.
import { createInterface } from 'node:readline';
import pg from 'pg';
import {
  CLUSTER_TOPICS,
  ClusterBus,
  LeaderElection,
  LeaderLoop,
  runFenced,
} from '../../../src/controlplane/cluster/index.ts';

const [url, name] = process.argv.slice(2);
if (!url || !name) throw new Error('usage: replica-process.ts URL NAME');

const say = (event: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ replica: name, ...event })}\n`);

const pool = new pg.Pool({ connectionString: url, max: 2 });
pool.on('error', () => undefined);
async function applyOnce(term: number): Promise<void> {
  const applied = await runFenced(pool, 'reconciler', term, async (tx) => {
    const { rows } = await tx.query<{ next: number }>(
      'SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM cluster_test_applies',
    );
    const seq = Number(rows[0]?.next);
    await tx.query('SELECT pg_sleep(0.005)'); // widen the window a second writer would need
    await tx.query('INSERT INTO cluster_test_applies (seq, term, replica) VALUES ($1, $2, $3)', [
      seq,
      term,
      name,
    ]);
    return seq;
  });
  say({ event: 'applied', seq: applied, term });
}

const election = new LeaderElection({
  url,
  election: 'reconciler',
  holder: name,
  retryMs: 200,
  onElected: (term) => {
    say({ event: 'elected', term, at: Date.now() });
  },
  onLost: (term, reason) => say({ event: 'lost', term, reason }),
});

const bus = new ClusterBus({ url, replicaId: name });
await bus.start();
await bus.subscribe(CLUSTER_TOPICS.reviews, (message) =>
  say({ event: 'received', origin: message.origin, body: message.body }),
);
await election.start();
say({ event: 'ready' });

new LeaderLoop({
  election,
  intervalMs: 20,
  run: (term) =>
    applyOnce(term).catch((error: Error & { code?: string }) => {
      say({ event: 'apply-refused', term, code: error.code ?? error.message });
    }),
}).start();

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.startsWith('publish ')) void bus.publish(CLUSTER_TOPICS.reviews, JSON.parse(line.slice(8)));
});
