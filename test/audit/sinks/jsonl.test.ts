import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSinks, type OcsfEvent } from '../../../src/audit/index.ts';
import { assertValidOcsf } from '../ocsf-schema.ts';
import { FAST, sampleEvents, sampleNumber, until } from './support.ts';

// The JSON-lines sink: one event per line, mode 0600, rotation by size and by UTC day with an
// atomic rename, the newest `keep` rotated files kept, and an `audit.rotated` event (OCSF Event
// Log Activity: Rotate) for each rotation.

let dataDir: string;
before(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'paddock-sinks-jsonl-'));
});
after(() => rmSync(dataDir, { recursive: true, force: true }));

function lines(path: string): unknown[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
}

describe('JSONL sink', () => {
  it('rotates by size with an atomic rename, keeps N files, and reports each rotation as an OCSF event', async () => {
    const rotations: OcsfEvent[] = [];
    const sinks = await createSinks(
      [
        {
          type: 'jsonl',
          name: 'local-file',
          path: 'size/ocsf.jsonl',
          maxBytes: 20_000,
          keep: 3,
          delivery: { ...FAST, batchSize: 5 },
        },
      ],
      { dataDir, onSystemEvent: (event) => rotations.push(event) },
    );
    const events = sampleEvents(200);
    for (const event of events) sinks.enqueue(event);
    await until(() => sinks.stats()['local-file']?.delivered === 200, 10_000, 'delivery');
    await sinks.close();

    const dir = join(dataDir, 'size');
    const files = readdirSync(dir).sort();
    const rotated = files.filter((name) => name !== 'ocsf.jsonl');
    assert.equal(rotated.length, 3, `keeps 3 rotated files: ${files.join(', ')}`);
    for (const name of files) {
      assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, `${name} is 0600`);
      assert.ok(statSync(join(dir, name)).size <= 20_000, `${name} is within maxBytes`);
    }
    // What remains is the newest events, whole lines, in order, across rotated then live files.
    const kept = [...rotated.map((name) => join(dir, name)), join(dir, 'ocsf.jsonl')].flatMap(lines);
    const numbers = kept.map(sampleNumber);
    assert.deepEqual(
      numbers,
      Array.from({ length: numbers.length }, (_, n) => 200 - numbers.length + n),
    );

    assert.ok(rotations.length >= 4, `rotated ${rotations.length} times`);
    for (const event of rotations) assertValidOcsf(event);
    const [first] = rotations;
    assert.equal(first?.metadata.event_code, 'audit.rotated');
    assert.deepEqual([first?.class_uid, first?.activity_id, first?.['activity_name']], [1008, 5, 'Rotate']);
    assert.equal(first?.['log_name'], 'local-file');
    assert.equal(first?.['status_code'], 'size');
    const last = rotations.at(-1);
    assert.ok(
      ((last?.['unmapped'] as { paddock?: { deleted?: string[] } } | undefined)?.paddock?.deleted ?? [])
        .length > 0,
      'the rotation that pruned names the files it deleted',
    );
  });

  it('keeps rotation order when several rotations fall in the same millisecond', async () => {
    const now = Date.UTC(2026, 10, 25, 12, 0, 0);
    const sinks = await createSinks(
      [
        {
          type: 'jsonl',
          name: 'same-ms',
          path: 'same-ms/ocsf.jsonl',
          maxBytes: 4096,
          keep: 4,
          delivery: { ...FAST, batchSize: 2 },
        },
      ],
      { dataDir, clock: { now: () => now } },
    );
    for (const event of sampleEvents(60)) sinks.enqueue(event);
    await until(() => sinks.stats()['same-ms']?.delivered === 60, 10_000, 'delivery');
    await sinks.close();
    const dir = join(dataDir, 'same-ms');
    const rotated = readdirSync(dir)
      .filter((name) => name !== 'ocsf.jsonl')
      .sort();
    assert.equal(rotated.length, 4);
    assert.ok(
      rotated.every((name) => name.startsWith('ocsf.jsonl.20261125T120000000Z-')),
      rotated.join(', '),
    );
    const numbers = [...rotated.map((name) => join(dir, name)), join(dir, 'ocsf.jsonl')]
      .flatMap(lines)
      .map(sampleNumber);
    assert.deepEqual(
      numbers,
      Array.from({ length: numbers.length }, (_, n) => 60 - numbers.length + n),
    );
  });

  it('rotates when the UTC day changes', async () => {
    let now = Date.UTC(2026, 10, 25, 23, 59, 0);
    const rotations: OcsfEvent[] = [];
    const sinks = await createSinks(
      [
        {
          type: 'jsonl',
          name: 'daily',
          path: join(dataDir, 'daily', 'ocsf.jsonl'),
          daily: true,
          delivery: { ...FAST, batchSize: 1 },
        },
      ],
      { dataDir, clock: { now: () => now }, onSystemEvent: (event) => rotations.push(event) },
    );
    const [a, b] = sampleEvents(2);
    sinks.enqueue(a as OcsfEvent);
    await until(() => sinks.stats()['daily']?.delivered === 1, 5000, 'first day');
    now = Date.UTC(2026, 10, 26, 0, 0, 1);
    sinks.enqueue(b as OcsfEvent);
    await until(() => sinks.stats()['daily']?.delivered === 2, 5000, 'second day');
    await sinks.close();
    assert.deepEqual(readdirSync(join(dataDir, 'daily')).sort(), [
      'ocsf.jsonl',
      'ocsf.jsonl.20261126T000001000Z',
    ]);
    assert.equal(rotations.length, 1);
    assert.equal(rotations[0]?.['status_code'], 'daily');
    assertValidOcsf(rotations[0]);
  });

  it('appends to an existing file, after what it holds', async () => {
    const path = join(dataDir, 'existing.jsonl');
    writeFileSync(path, `${JSON.stringify(sampleEvents(1)[0])}\n`, { mode: 0o600 });
    const sinks = await createSinks([{ type: 'jsonl', name: 'existing', path, delivery: FAST }], { dataDir });
    for (const event of sampleEvents(2, 1)) sinks.enqueue(event);
    await until(() => sinks.stats()['existing']?.delivered === 2, 5000, 'append');
    await sinks.close();
    assert.deepEqual(lines(path).map(sampleNumber), [0, 1, 2]);
  });
});
