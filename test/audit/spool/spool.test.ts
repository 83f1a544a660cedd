import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type AuditBatchMessage,
  type AuditReply,
  AuditSpool,
  type AuditTransport,
  verifyChain,
} from '../../../src/audit/index.ts';

// The durable spool on a real filesystem: group commit, rotation with the chain running on
// across segments, a torn final record cut off at open, and shipping that resumes from the
// acknowledged cursor. The transport here is a recording stand-in for the control plane (named
// as such); test/controlplane/audit runs the real ingest.

const root = mkdtempSync(join(tmpdir(), 'paddock-spool-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `spool-${++dirs}`);

function event(n: number, pad = 0): Record<string, unknown> {
  return { class_uid: 6002, metadata: { uid: `ev-${n}` }, message: `event ${n}${'x'.repeat(pad)}` };
}

/** A stand-in for the control plane: stores records by seq and acks its head. */
function recordingTransport(): AuditTransport & {
  stored: Map<number, string>;
  batches: AuditBatchMessage[];
  failNext?: boolean;
} {
  const stored = new Map<number, string>();
  const batches: AuditBatchMessage[] = [];
  const transport = {
    stored,
    batches,
    failNext: false,
    async send(batch: AuditBatchMessage): Promise<AuditReply> {
      batches.push(batch);
      for (const record of batch.events) stored.set(record.seq, record.hash);
      if (transport.failNext) {
        transport.failNext = false;
        throw new Error('connection reset (stand-in)');
      }
      const upto = Math.max(...stored.keys());
      return { type: 'audit.ack', source: batch.source, uptoSeq: upto, hash: stored.get(upto) as string };
    },
  };
  return transport;
}

describe('audit spool', () => {
  it('resolves appends only once durable, many appends sharing one write', async () => {
    const dir = freshDir();
    const spool = await AuditSpool.open(dir, { source: 'ws-1' });
    const records = await Promise.all(Array.from({ length: 50 }, (_, i) => spool.append(event(i + 1))));
    assert.deepEqual(
      records.map((r) => r.seq),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.equal(spool.seq, 50);
    await spool.close();
    const files = readdirSync(dir).filter((f) => f.startsWith('segment-'));
    assert.deepEqual(files, ['segment-0000000000000001.jsonl']);
    assert.equal(statSync(join(dir, files[0] as string)).mode & 0o777, 0o600);
    const check = await verifyChain(join(dir, files[0] as string));
    assert.deepEqual([check.ok, check.records, check.head], [true, 50, records[49]?.hash]);
  });

  it('rotates segments and keeps one chain across them', async () => {
    const dir = freshDir();
    const rotations: number[] = [];
    const spool = await AuditSpool.open(dir, {
      source: 'ws-1',
      maxSegmentBytes: 4096,
      onRotate: (info) => rotations.push(info.lastSeq),
    });
    for (let i = 1; i <= 40; i++) await spool.append(event(i, 300));
    await spool.close();
    const segments = readdirSync(dir)
      .filter((f) => f.startsWith('segment-'))
      .sort();
    assert.ok(segments.length >= 3, `expected several segments, got ${segments.join(', ')}`);
    assert.equal(rotations.length, segments.length - 1);
    // The segments concatenated are one valid chain; each new segment opens with its rotation event.
    const lines = segments.flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
    const check = await verifyChain(lines);
    const total = 40 + rotations.length;
    assert.deepEqual([check.ok, check.records], [true, total]);
    for (const file of segments.slice(1)) {
      const first = JSON.parse(readFileSync(join(dir, file), 'utf8').split('\n')[0] as string);
      assert.equal(first.event.metadata.event_code, 'audit.spool_rotated');
      assert.equal(first.event.resources[0].name, file);
    }
    const reopened = await AuditSpool.open(dir, { source: 'ws-1', maxSegmentBytes: 4096 });
    assert.equal(reopened.seq, total);
    const next = await reopened.append(event(41));
    assert.equal(next.seq, total + 1);
    await reopened.close();
  });

  it('cuts a torn final record left by a crash and continues the chain', async () => {
    const dir = freshDir();
    const spool = await AuditSpool.open(dir, { source: 'ws-1' });
    for (let i = 1; i <= 5; i++) await spool.append(event(i));
    const head = spool.head;
    await spool.close();
    const segment = join(dir, 'segment-0000000000000001.jsonl');
    const torn = '{"seq":6,"time":1767225600000,"prev":"' + head.slice(0, 20);
    appendFileSync(segment, torn);
    const reopened = await AuditSpool.open(dir, { source: 'ws-1' });
    assert.equal(reopened.recoveredBytes, Buffer.byteLength(torn));
    assert.deepEqual([reopened.seq, reopened.head], [5, head]);
    const sixth = await reopened.append(event(6));
    assert.deepEqual([sixth.seq, sixth.prev], [6, head]);
    await reopened.close();
    const check = await verifyChain(segment);
    assert.deepEqual([check.ok, check.records], [true, 6]);
  });

  it('lets one process write a spool at a time, and takes over the lock of a crashed one', async () => {
    const dir = freshDir();
    const spool = await AuditSpool.open(dir, { source: 'ws-1' });
    await assert.rejects(AuditSpool.open(dir, { source: 'ws-1' }), {
      code: 'PDK_AUDIT_WRITE',
      message: `audit spool ${dir} is in use by process ${process.pid} (this one): one writer per spool, or its chain forks`,
    });
    await spool.close();
    const gone = spawnSync('true').pid as number; // a process that has exited
    writeFileSync(join(dir, 'spool.lock'), String(gone));
    const again = await AuditSpool.open(dir, { source: 'ws-1' });
    assert.equal(readFileSync(join(dir, 'spool.lock'), 'utf8'), String(process.pid));
    await again.close();
    assert.equal(existsSync(join(dir, 'spool.lock')), false);
  });

  it('refuses to open over a complete record that was edited (not a torn write)', async () => {
    const dir = freshDir();
    const spool = await AuditSpool.open(dir, { source: 'ws-1' });
    await spool.append(event(1));
    await spool.close();
    const segment = join(dir, 'segment-0000000000000001.jsonl');
    appendFileSync(segment, '{"seq":2,"time":1,"prev":"x","hash":"y","event":{}}\n');
    await assert.rejects(AuditSpool.open(dir, { source: 'ws-1' }), { code: 'PDK_AUDIT_CHAIN_BROKEN' });
  });

  it('ships in batches, resumes from the acknowledged cursor and drops acknowledged segments', async () => {
    const dir = freshDir();
    const transport = recordingTransport();
    const spool = await AuditSpool.open(dir, { source: 'ws-1', maxSegmentBytes: 4096 });
    for (let i = 1; i <= 30; i++) await spool.append(event(i, 300));
    transport.failNext = true;
    await assert.rejects(spool.ship(transport, { maxBatchEvents: 7 }), /connection reset/);
    assert.equal(spool.acknowledged.seq, 0); // the lost ack moves nothing
    const total = spool.seq; // 30 events and the rotation records
    const result = await spool.ship(transport, { maxBatchEvents: 7 });
    assert.deepEqual(result, { sent: total, acknowledged: total });
    assert.equal(transport.stored.size, total);
    // The first batch was sent twice (at-least-once), every other once.
    const firsts = Array.from({ length: Math.ceil(total / 7) }, (_, i) => 1 + 7 * i);
    assert.deepEqual(
      transport.batches.map((b) => b.events[0]?.seq),
      [1, ...firsts],
    );
    await spool.close();
    const left = readdirSync(dir).filter((f) => f.startsWith('segment-'));
    assert.equal(left.length, 1, 'only the newest segment remains once all is acknowledged');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'acknowledged.json'), 'utf8')), {
      seq: total,
      hash: transport.stored.get(total),
    });
    // After a restart nothing is sent again, and new events continue from there.
    const reopened = await AuditSpool.open(dir, { source: 'ws-1', maxSegmentBytes: 4096 });
    assert.deepEqual(await reopened.ship(transport), { sent: 0, acknowledged: total });
    await reopened.append(event(31));
    assert.deepEqual(await reopened.ship(transport), { sent: 1, acknowledged: total + 1 });
    await reopened.close();
  });

  it('refuses an ack whose hash is not its own record (forked chains) and keeps the cursor', async () => {
    const dir = freshDir();
    const spool = await AuditSpool.open(dir, { source: 'ws-1' });
    await spool.append(event(1));
    const liar: AuditTransport = {
      send: async (batch) => ({ type: 'audit.ack', source: batch.source, uptoSeq: 1, hash: 'f'.repeat(64) }),
    };
    await assert.rejects(spool.ship(liar), {
      code: 'PDK_AUDIT_SHIP',
      message:
        "the control plane's head for ws-1 at seq 1 has another hash than this spool: the chains forked",
    });
    assert.equal(spool.acknowledged.seq, 0);
    const refusing: AuditTransport = {
      send: async (batch) => ({
        type: 'audit.nack',
        source: batch.source,
        code: 'PDK_STORE_CONFLICT',
        message: 'forked',
      }),
    };
    await assert.rejects(spool.ship(refusing), {
      code: 'PDK_AUDIT_SHIP',
      message: 'the control plane refused audit batch seq 1..1 of ws-1: PDK_STORE_CONFLICT: forked',
    });
    await spool.close();
  });
});
