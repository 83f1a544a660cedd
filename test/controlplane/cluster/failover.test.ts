import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDatabase, dropDatabase, useTestPostgres } from '../../support/postgres.ts';

// Two control-plane processes against one real PostgreSQL: the leader is killed with SIGKILL,
// the standby takes over within 15 s, and no apply runs twice (each fenced apply is recorded
// with its term; the records must be one per apply number, in term order).

const REPLICA = fileURLToPath(new URL('./replica-process.ts', import.meta.url));
const FAILOVER_LIMIT_MS = 15_000;

interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  readonly events: Record<string, unknown>[];
  waitFor(
    predicate: (event: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

function startReplica(url: string, name: string): Replica {
  const child = spawn(process.execPath, [REPLICA, url, name], { stdio: ['pipe', 'pipe', 'inherit'] });
  const events: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    events.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiters) wake();
  });
  return {
    name,
    child,
    events,
    waitFor(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(predicate);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${name}: timed out; events so far: ${JSON.stringify(events.slice(-5))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

describe('control plane on a cluster: two replica processes, one PostgreSQL', () => {
  let server: Awaited<ReturnType<typeof useTestPostgres>>;
  let url: string;
  const replicas: Replica[] = [];

  before(async () => {
    server = await useTestPostgres();
    url = await createDatabase(server.url, 'paddock_cluster');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    // No unique constraint on purpose: a second run of an apply must be visible, not refused.
    await client.query(
      'CREATE TABLE cluster_test_applies (seq INTEGER NOT NULL, term BIGINT NOT NULL, replica TEXT NOT NULL)',
    );
    await client.end();
  });

  after(async () => {
    for (const replica of replicas) replica.child.kill('SIGKILL');
    await dropDatabase(url);
    await server.release();
  });

  it('kill -9 of the leader: the standby leads within 15 s with a higher term, and no apply runs twice', async () => {
    const a = startReplica(url, 'replica-a');
    replicas.push(a);
    const electedA = await a.waitFor((event) => event['event'] === 'elected');
    const b = startReplica(url, 'replica-b');
    replicas.push(b);
    await b.waitFor((event) => event['event'] === 'ready');
    await a.waitFor((event) => event['event'] === 'applied' && Number(event['seq']) >= 10);
    assert.equal(b.events.filter((event) => event['event'] === 'elected').length, 0, 'one leader at a time');

    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    const electedB = await b.waitFor((event) => event['event'] === 'elected', FAILOVER_LIMIT_MS + 5000);
    const failoverMs = Number(electedB['at']) - killedAt;
    process.stdout.write(`# failover: standby elected ${failoverMs} ms after kill -9 of the leader\n`);
    assert.ok(failoverMs < FAILOVER_LIMIT_MS, `failover took ${failoverMs} ms`);
    assert.ok(Number(electedB['term']) > Number(electedA['term']), 'the new term is higher');
    await b.waitFor((event) => event['event'] === 'applied' && Number(event['seq']) >= 30);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ seq: number; term: string; replica: string }>(
      'SELECT seq, term, replica FROM cluster_test_applies ORDER BY seq, term',
    );
    await client.end();
    const seqs = rows.map((row) => row.seq);
    assert.equal(new Set(seqs).size, seqs.length, 'an apply number ran twice');
    assert.deepEqual(
      seqs,
      Array.from({ length: seqs.length }, (_, i) => i + 1),
      'applies are contiguous',
    );
    const terms = rows.map((row) => Number(row.term));
    assert.deepEqual(
      terms,
      [...terms].sort((x, y) => x - y),
      'terms never go back',
    );
    assert.ok(
      rows.some((row) => row.replica === 'replica-a') && rows.some((row) => row.replica === 'replica-b'),
    );
    for (const row of rows)
      assert.equal(
        Number(row.term),
        row.replica === 'replica-a' ? Number(electedA['term']) : Number(electedB['term']),
      );
  });

  it('LISTEN/NOTIFY: an event published on one replica reaches the other', async () => {
    const b = replicas.find((replica) => replica.name === 'replica-b');
    assert.ok(b && b.child.exitCode === null);
    const c = startReplica(url, 'replica-c');
    replicas.push(c);
    await c.waitFor((event) => event['event'] === 'ready');
    c.child.stdin!.write(`publish ${JSON.stringify({ reviewId: 'rv-1', status: 'approved' })}\n`);
    const received = await b.waitFor((event) => event['event'] === 'received');
    assert.equal(received['origin'], 'replica-c');
    assert.deepEqual(received['body'], { reviewId: 'rv-1', status: 'approved' });
    // The publisher's own subscribers get it too (a client may be on either replica).
    await c.waitFor((event) => event['event'] === 'received');
  });
});
