import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  CLUSTER_TOPICS,
  ClusterBus,
  type ClusterMessage,
  LeaderElection,
  MAX_NOTIFY_PAYLOAD_BYTES,
  runFenced,
} from '../../../src/controlplane/cluster/index.ts';
import { createDatabase, dropDatabase, useTestPostgres } from '../../support/postgres.ts';

// Leader election, fencing and the notify bus in one process against a real PostgreSQL; each
// boundary is attacked: a leader whose session is killed, a stale leader writing, a write racing
// the next election, an oversized or SQL-shaped topic, a listener whose session is killed.

async function until<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('leader election, fencing and fan-out (real PostgreSQL)', () => {
  let server: Awaited<ReturnType<typeof useTestPostgres>>;
  let url: string;
  let admin: pg.Client;
  let pool: pg.Pool;
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    server = await useTestPostgres();
    url = await createDatabase(server.url, 'paddock_election');
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('CREATE TABLE fenced_writes (term BIGINT NOT NULL, note TEXT NOT NULL)');
    pool = new pg.Pool({ connectionString: url, max: 4 });
    // Tests here kill sessions and drop the database: an idle pooled connection that dies then
    // reports on the pool, and unheard that report would end the test process.
    pool.on('error', () => undefined);
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await pool.end();
    await admin.end();
    await dropDatabase(url);
    await server.release();
  });

  function election(holder: string, name = 'reconciler', lost: number[] = []): LeaderElection {
    const created = new LeaderElection({
      url,
      election: name,
      holder,
      retryMs: 100,
      onLost: (term) => lost.push(term),
    });
    cleanups.push(() => created.stop());
    return created;
  }

  it('one leader per election; terms increase; a different election is independent', async () => {
    const first = election('one');
    const second = election('two');
    await first.start();
    await second.start();
    assert.equal(first.isLeader, true);
    assert.equal(second.isLeader, false);
    const other = election('three', 'audit-shipper');
    await other.start();
    assert.equal(other.isLeader, true, 'another election has its own lock');
    const term = first.term!;
    await first.stop();
    const next = await until(() => second.term);
    assert.equal(next, term + 1);
    await second.stop();
  });

  it('loss of the connection is loss of leadership: a killed session ends the term, a stale term cannot write', async () => {
    const lost: number[] = [];
    const leader = election('leader', 'fence-test', lost);
    await leader.start();
    const oldTerm = leader.term!;
    await runFenced(pool, 'fence-test', oldTerm, (tx) =>
      tx.query("INSERT INTO fenced_writes VALUES ($1, 'ok')", [oldTerm]),
    );

    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'paddock-election-fence-test' AND datname = current_database()",
    );
    await until(() => (lost.includes(oldTerm) ? true : undefined));
    assert.equal(leader.isLeader, false);
    const standby = election('standby', 'fence-test');
    await standby.start();
    const newTerm = await until(() => standby.term ?? leader.term);
    assert.ok(newTerm > oldTerm);

    await assert.rejects(
      runFenced(pool, 'fence-test', oldTerm, (tx) =>
        tx.query("INSERT INTO fenced_writes VALUES ($1, 'stale')", [oldTerm]),
      ),
      {
        code: 'PDK_CLUSTER_NOT_LEADER',
        message: new RegExp(`term ${oldTerm} is not current \\(current ${newTerm}\\)`),
      },
    );
    const { rows } = await admin.query("SELECT count(*)::int AS n FROM fenced_writes WHERE note = 'stale'");
    assert.equal(rows[0].n, 0, 'the stale leader wrote nothing');
  });

  it('a fenced write in flight holds off the next term; after it, the old term is refused', async () => {
    const leader = election('racer', 'race-test');
    await leader.start();
    const term = leader.term!;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => {
      inside = resolve;
    });
    const write = runFenced(pool, 'race-test', term, async (tx) => {
      inside();
      await gate;
      await tx.query("INSERT INTO fenced_writes VALUES ($1, 'in-flight')", [term]);
    });
    await entered;
    // The next leader's term increment, as LeaderElection does it, from another session.
    const bump = pool.query("UPDATE paddock_leader_terms SET term = term + 1 WHERE election = 'race-test'");
    let bumped = false;
    void bump.then(() => {
      bumped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(bumped, false, 'the increment waits for the fenced transaction');
    release();
    await write;
    await bump;
    await assert.rejects(
      runFenced(pool, 'race-test', term, async () => 'must not run'),
      { code: 'PDK_CLUSTER_NOT_LEADER' },
    );
  });

  it('notify bus: delivered to every subscriber; oversized payloads and SQL-shaped topics are refused', async () => {
    const a = new ClusterBus({ url, replicaId: 'a' });
    const b = new ClusterBus({ url, replicaId: 'b', reconnectMs: 100 });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    await a.start();
    await b.start();
    const seen: ClusterMessage[] = [];
    await b.subscribe(CLUSTER_TOPICS.channel, (message) => seen.push(message));
    await a.publish(CLUSTER_TOPICS.channel, { workspaceId: 'ws-1', kind: 'rotate' });
    const first = await until(() => seen[0]);
    assert.deepEqual(first, {
      topic: 'paddock_channel',
      origin: 'a',
      body: { workspaceId: 'ws-1', kind: 'rotate' },
    });

    await assert.rejects(a.publish(CLUSTER_TOPICS.channel, 'x'.repeat(MAX_NOTIFY_PAYLOAD_BYTES)), {
      code: 'PDK_CLUSTER_NOTIFY',
      message: /over 7900/,
    });
    await assert.rejects(
      b.subscribe('x; DROP TABLE fenced_writes', () => undefined),
      { code: 'PDK_CLUSTER_NOTIFY' },
    );
    await assert.rejects(a.publish('Paddock"Reviews', {}), { code: 'PDK_CLUSTER_NOTIFY' });

    // The listener's session is killed: it reconnects, LISTENs again, and messages flow.
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'paddock-bus-listen' AND datname = current_database()",
    );
    const deadline = Date.now() + 10_000;
    while (seen.length < 2 && Date.now() < deadline) {
      await a.publish(CLUSTER_TOPICS.channel, { workspaceId: 'ws-1', kind: 'after-reconnect' });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(seen.length >= 2, 'a message arrived after the listener reconnected');
    assert.deepEqual(seen[1]?.body, { workspaceId: 'ws-1', kind: 'after-reconnect' });
  });
});
