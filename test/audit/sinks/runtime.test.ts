import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSinks } from '../../../src/audit/index.ts';
import { FAST, freePort, sampleEvents, sampleNumber, startReceiver, until } from './support.ts';

// The sink runtime's promises under faults: a dead collector is retried with backoff and gets
// every event once when it returns; a slow one never slows enqueue, and its overflow goes to
// the dead-letter file rather than memory; sinks deliver independently of each other.

let dataDir: string;
before(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'paddock-sinks-runtime-'));
});
after(() => rmSync(dataDir, { recursive: true, force: true }));

function hecNumbers(bodies: readonly string[]): number[] {
  return bodies.flatMap((body) =>
    body
      .trim()
      .split('\n')
      .map((line) => sampleNumber(JSON.parse(line).event)),
  );
}

describe('sink runtime under faults (Splunk HEC local stand-in receiver)', () => {
  it('retries a collector that refuses connections, then delivers every event once, in order', async () => {
    const port = await freePort();
    const sinks = await createSinks(
      [
        {
          type: 'splunk-hec',
          name: 'late',
          url: `http://127.0.0.1:${port}`,
          tokenEnv: 'T',
          delivery: { ...FAST, retries: 1000 },
        },
      ],
      { dataDir, env: { T: 'tok' } },
    );
    for (const event of sampleEvents(200)) sinks.enqueue(event);
    await until(
      () => (sinks.stats()['late']?.retried ?? 0) >= 3,
      10_000,
      'three retries against a closed port',
    );
    assert.equal(sinks.stats()['late']?.delivered, 0);
    const hec = await startReceiver(port);
    try {
      await until(
        () => sinks.stats()['late']?.delivered === 200,
        15_000,
        'delivery after the collector came back',
      );
      await sinks.close();
      assert.deepEqual(
        hecNumbers(hec.requests.map((r) => r.body)),
        Array.from({ length: 200 }, (_, n) => n),
      );
      assert.equal(sinks.stats()['late']?.deadLettered, 0);
    } finally {
      await hec.close();
    }
  });

  it('backs off exponentially with jitter between retries', async () => {
    const port = await freePort();
    const attempts: number[] = [];
    const sinks = await createSinks(
      [
        {
          type: 'splunk-hec',
          name: 'backoff',
          url: `http://127.0.0.1:${port}`,
          tokenEnv: 'T',
          delivery: { batchSize: 1, batchWait: '1ms', retries: 5, backoff: '40ms', maxBackoff: '10s' },
        },
      ],
      { dataDir, env: { T: 'tok' }, random: () => 1 },
    );
    const started = Date.now();
    sinks.enqueue(sampleEvents(1)[0] as never);
    let seen = 0;
    await until(
      () => {
        const retried = sinks.stats()['backoff']?.retried ?? 0;
        if (retried > seen) {
          seen = retried;
          attempts.push(Date.now() - started);
        }
        return sinks.stats()['backoff']?.deadLettered === 1;
      },
      15_000,
      'retries exhausted',
    );
    await sinks.close();
    // With jitter fixed at its top, waits are 40, 80, 160, 320, 640 ms: the sum is ~1.24 s.
    const total = attempts.at(-1) ?? 0;
    assert.ok(total >= 500, `retries spread out over time (${total} ms)`);
    const dead = JSON.parse(
      readFileSync(join(dataDir, 'audit', 'dead-letter', 'backoff.jsonl'), 'utf8').trim(),
    );
    assert.match(dead.reason, /gave up after 6 attempts/);
  });

  it('never slows enqueue: 100k events to a slow collector queue in well under a second, overflow is dead-lettered', async (t) => {
    const slow = await startReceiver();
    slow.respond = (_request, response) => {
      setTimeout(() => {
        response.writeHead(200);
        response.end('{"text":"Success","code":0}');
      }, 300);
    };
    try {
      const sinks = await createSinks(
        [
          {
            type: 'splunk-hec',
            name: 'slow',
            url: slow.url,
            tokenEnv: 'T',
            delivery: {
              batchSize: 500,
              batchWait: '10ms',
              queueSize: 10_000,
              retries: 3,
              backoff: '10ms',
              maxBackoff: '50ms',
            },
          },
        ],
        { dataDir, env: { T: 'tok' } },
      );
      const events = sampleEvents(1000);
      const started = process.hrtime.bigint();
      for (let n = 0; n < 100_000; n++) sinks.enqueue(events[n % 1000] as never);
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      t.diagnostic(`100k enqueues took ${elapsedMs.toFixed(1)} ms`);
      assert.ok(elapsedMs < 1000, `100k enqueues took ${elapsedMs.toFixed(1)} ms`);
      const queued = sinks.stats()['slow']?.queued ?? 0;
      assert.equal(queued, 100_000, 'every event accounted for (queued in memory or waiting to spill)');
      await until(() => (sinks.stats()['slow']?.deadLettered ?? 0) >= 90_000, 15_000, 'overflow spilled');
      assert.ok((sinks.stats()['slow']?.queued ?? 0) <= 10_000, 'memory stays bounded by queueSize');
      // Closing with a short deadline dead-letters what the slow collector has not taken.
      await sinks.close(200);
      const stats = sinks.stats()['slow'];
      assert.equal((stats?.delivered ?? 0) + (stats?.deadLettered ?? 0), 100_000, 'nothing lost');
      assert.equal(stats?.queued, 0);
      const file = join(dataDir, 'audit', 'dead-letter', 'slow.jsonl');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(join(dataDir, 'audit', 'dead-letter')).mode & 0o777, 0o700);
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      assert.equal(lines.length, stats?.deadLettered);
      const reasons = new Set(lines.map((line) => JSON.parse(line).reason));
      assert.ok(reasons.has('queue full'), 'overflow was spilled');
      for (const reason of reasons)
        assert.ok(['queue full', 'not delivered by the close deadline'].includes(reason), reason);
    } finally {
      await slow.close();
    }
  });

  it('delivers to several sinks at once, each on its own: a dead one does not hold up the others', async () => {
    const hec = await startReceiver();
    const otlp = await startReceiver();
    const deadPort = await freePort();
    try {
      const sinks = await createSinks(
        [
          { type: 'jsonl', name: 'file', path: 'several/events.jsonl', delivery: FAST },
          { type: 'splunk-hec', name: 'hec', url: hec.url, tokenEnv: 'T', delivery: FAST },
          { type: 'otlp', name: 'otlp', url: `${otlp.url}/v1/logs`, delivery: FAST },
          {
            type: 'syslog',
            name: 'dead-syslog',
            host: '127.0.0.1',
            port: deadPort,
            delivery: { ...FAST, retries: 1000 },
          },
        ],
        { dataDir, env: { T: 'tok' } },
      );
      for (const event of sampleEvents(120)) sinks.enqueue(event);
      await until(
        () => ['file', 'hec', 'otlp'].every((name) => sinks.stats()[name]?.delivered === 120),
        10_000,
        'the live sinks',
      );
      assert.equal(sinks.stats()['dead-syslog']?.delivered, 0);
      assert.ok((sinks.stats()['dead-syslog']?.retried ?? 0) >= 1);
      await sinks.close(300);
      assert.equal(sinks.stats()['dead-syslog']?.deadLettered, 120, 'the dead sink dead-letters at close');
      const lines = readFileSync(join(dataDir, 'several', 'events.jsonl'), 'utf8')
        .trim()
        .split('\n');
      assert.deepEqual(
        lines.map((line) => sampleNumber(JSON.parse(line))),
        Array.from({ length: 120 }, (_, n) => n),
      );
      assert.deepEqual(
        hecNumbers(hec.requests.map((r) => r.body)),
        Array.from({ length: 120 }, (_, n) => n),
      );
      const otlpCount = otlp.requests.reduce(
        (sum, r) => sum + JSON.parse(r.body).resourceLogs[0].scopeLogs[0].logRecords.length,
        0,
      );
      assert.equal(otlpCount, 120);
    } finally {
      await hec.close();
      await otlp.close();
    }
  });
});
