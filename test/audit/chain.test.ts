import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { AuditChainWriter, createOcsfEventCheck, GENESIS_HASH, verifyChain } from '../../src/audit/index.ts';
import { parse, readLines, rehash, sampleEvent, tempDir, writeLines } from './chain-fixtures.ts';
import { OCSF_SCHEMA_DIR } from './ocsf-schema.ts';

const dir = tempDir();

/** A clean 10-record log written by the real writer. */
async function tenRecordLog(name: string): Promise<string> {
  const file = join(dir, name);
  const writer = await AuditChainWriter.open(file);
  for (let n = 1; n <= 10; n++) await writer.append(sampleEvent(n));
  await writer.close();
  return file;
}

describe('hash chain: clean logs', () => {
  it('writes seq from 1 with prev links and verifies', async () => {
    const file = join(dir, 'clean.jsonl');
    const writer = await AuditChainWriter.open(file);
    const first = await writer.append(sampleEvent(1));
    const second = await writer.append(sampleEvent(2));
    assert.deepEqual([first.seq, first.prev, second.seq, second.prev], [1, GENESIS_HASH, 2, first.hash]);
    assert.equal(writer.head, second.hash);
    await writer.close();
    const lines = readLines(file);
    assert.deepEqual(Object.keys(parse(lines[0] as string)), ['seq', 'time', 'prev', 'hash', 'event']);
    assert.deepEqual(await verifyChain(file), { ok: true, records: 2, head: second.hash });
  });

  it('verifies a clean chain of 10,000 records', async () => {
    const file = join(dir, 'large.jsonl');
    const writer = await AuditChainWriter.open(file);
    for (let start = 1; start <= 10_000; start += 500) {
      await writer.appendBatch(Array.from({ length: 500 }, (_, i) => sampleEvent(start + i)));
    }
    await writer.close();
    const result = await verifyChain(file);
    assert.deepEqual(result, { ok: true, records: 10_000, head: writer.head });
  });

  it('commits concurrent appends in order, each durable when it resolves', async () => {
    const file = join(dir, 'concurrent.jsonl');
    const writer = await AuditChainWriter.open(file);
    const records = await Promise.all(Array.from({ length: 200 }, (_, n) => writer.append(sampleEvent(n))));
    assert.deepEqual(
      records.map((r) => r.seq),
      Array.from({ length: 200 }, (_, n) => n + 1),
    );
    await writer.close();
    assert.equal((await verifyChain(file)).records, 200);
  });

  it('resumes after reopen from the last record', async () => {
    const file = await tenRecordLog('resume.jsonl');
    const reopened = await AuditChainWriter.open(file);
    assert.equal(reopened.seq, 10);
    assert.equal(reopened.head, parse(readLines(file)[9] as string).hash);
    const next = await reopened.append(sampleEvent(11));
    await reopened.close();
    assert.deepEqual([next.seq, next.prev], [11, parse(readLines(file)[9] as string).hash]);
    assert.deepEqual(await verifyChain(file), { ok: true, records: 11, head: next.hash });
  });

  it('resumes after a last record larger than the tail read chunk', async () => {
    const file = await tenRecordLog('resume-large.jsonl');
    const writer = await AuditChainWriter.open(file);
    const big = await writer.append({
      ...sampleEvent(11),
      unmapped: { paddock: { note: 'x'.repeat(200_000) } },
    });
    await writer.close();
    const reopened = await AuditChainWriter.open(file);
    assert.deepEqual([reopened.seq, reopened.head], [11, big.hash]);
    await reopened.close();
  });

  it('fails closed when the disk refuses a write', async () => {
    // /dev/full accepts the open and fails every write with ENOSPC: a real full disk.
    const writer = await AuditChainWriter.open('/dev/full');
    await assert.rejects(writer.append(sampleEvent(1)), (error: { code: string; message: string }) => {
      assert.equal(error.code, 'PDK_AUDIT_WRITE');
      assert.match(error.message, /^audit log \/dev\/full could not be written: ENOSPC/);
      return true;
    });
    await assert.rejects(writer.append(sampleEvent(2)), { code: 'PDK_AUDIT_WRITE' });
    assert.equal(writer.seq, 0);
    await writer.close();
  });

  it('refuses to resume a log whose last record is incomplete', async () => {
    const file = await tenRecordLog('partial-tail.jsonl');
    appendFileSync(file, '{"seq":11,"time":1,"prev":"ab');
    await assert.rejects(AuditChainWriter.open(file), (error: { code: string; message: string }) => {
      assert.equal(error.code, 'PDK_AUDIT_CHAIN_BROKEN');
      assert.match(error.message, /ends with an incomplete record; run `paddock audit verify/);
      return true;
    });
  });

  it('refuses an event the OCSF dev check rejects, writing nothing', async () => {
    const file = join(dir, 'checked.jsonl');
    const writer = await AuditChainWriter.open(file, { checkEvent: createOcsfEventCheck(OCSF_SCHEMA_DIR) });
    await writer.append(sampleEvent(1));
    const broken = { ...sampleEvent(2), type_uid: 1 };
    await assert.rejects(
      writer.append(broken),
      (error: { code: string; message: string; details: { problems: unknown[] } }) => {
        assert.equal(error.code, 'PDK_AUDIT_EVENT_INVALID');
        assert.match(error.message, /^audit event exec.allowed is not valid OCSF 1\.8\.0: 2 problem\(s\)$/);
        assert.ok(error.details.problems.length === 2);
        return true;
      },
    );
    await writer.close();
    assert.equal(readLines(file).length, 1);
  });
});

describe('hash chain: tampering', () => {
  let file: string;
  let lines: string[];
  before(async () => {
    file = await tenRecordLog('tamper.jsonl');
    lines = readLines(file);
  });
  const verifyLines = (edited: string[], suffix: string) => verifyChain(writeLines(file, edited, suffix));
  const line = (n: number) => lines[n - 1] as string;

  // Record 6 is a denial; the attacker turns it into an allowance.
  const allowInstead = (record: ReturnType<typeof parse>) => {
    Object.assign(record.event, {
      action_id: 1,
      action: 'Allowed',
      disposition_id: 1,
      disposition: 'Allowed',
    });
    return record;
  };

  it('detects an edited record', async () => {
    const result = await verifyLines(lines.with(5, JSON.stringify(allowInstead(parse(line(6))))), 'edit');
    assert.deepEqual(result.firstBad, {
      seq: 6,
      line: 6,
      reason: 'hash does not match the record content (record edited)',
    });
    assert.equal(result.records, 5);
  });

  it('detects an edited record whose hash was recomputed, at the next link', async () => {
    const result = await verifyLines(lines.with(5, rehash(allowInstead(parse(line(6))))), 'edit-rehash');
    assert.deepEqual(result.firstBad, {
      seq: 7,
      line: 7,
      reason: 'prev does not match the hash of seq 6: a record before it was replaced or rehashed',
    });
  });

  it('detects a removed record', async () => {
    const result = await verifyLines(lines.toSpliced(4, 1), 'remove');
    assert.deepEqual(result.firstBad, {
      seq: 5,
      line: 5,
      reason: 'found seq 6 where seq 5 was expected: record(s) removed or moved',
    });
  });

  it('detects an inserted record chained to its predecessor', async () => {
    const forged = rehash({
      ...parse(line(5)),
      event: sampleEvent(99) as unknown as Record<string, unknown>,
    });
    const result = await verifyLines(lines.toSpliced(4, 0, forged), 'insert');
    assert.deepEqual(result.firstBad, {
      seq: 5,
      line: 5,
      reason: 'seq 5 occurs twice (lines 5 and 6) with the same prev: a record was inserted',
    });
    assert.equal(result.records, 4);
  });

  it('detects a replayed copy of an earlier record', async () => {
    const result = await verifyLines(lines.toSpliced(4, 0, line(3)), 'replay');
    assert.deepEqual(result.firstBad, {
      seq: 5,
      line: 5,
      reason: 'found seq 3 again where seq 5 was expected: record inserted or reordered',
    });
  });

  it('detects reordered records', async () => {
    const result = await verifyLines(lines.toSpliced(4, 2, line(6), line(5)), 'reorder');
    assert.deepEqual(result.firstBad, {
      seq: 5,
      line: 5,
      reason: 'found seq 6 where seq 5 was expected: record(s) removed or moved',
    });
  });

  it('detects a truncated last line', async () => {
    const cut = join(dir, 'truncated.jsonl');
    writeFileSync(cut, readFileSync(file));
    truncateSync(cut, readFileSync(file).length - 40);
    const result = await verifyChain(cut);
    assert.deepEqual(result.firstBad, {
      seq: 10,
      line: 10,
      reason: 'not valid JSON (truncated or garbled line)',
    });
    assert.deepEqual([result.records, result.head], [9, parse(line(9)).hash]);
  });

  it('detects a garbled line and a blank line', async () => {
    const garbled = await verifyLines(lines.with(6, line(7).replace('"prev":"', '"prev":"zz')), 'garbled');
    assert.deepEqual(garbled.firstBad, { seq: 7, line: 7, reason: 'prev is not a SHA-256 hex digest' });
    const noise = await verifyLines(lines.with(2, 'x7!@#'), 'noise');
    assert.deepEqual(noise.firstBad, {
      seq: 3,
      line: 3,
      reason: 'not valid JSON (truncated or garbled line)',
    });
    const blank = await verifyLines(lines.toSpliced(3, 0, ''), 'blank');
    assert.deepEqual(blank.firstBad, { seq: 4, line: 4, reason: 'blank line (garbled)' });
  });

  it('rejects a member the hash does not cover', async () => {
    const record = { ...parse(line(2)), note: 'added later' };
    const result = await verifyLines(lines.with(1, JSON.stringify(record)), 'extra');
    assert.deepEqual(result.firstBad, {
      seq: 2,
      line: 2,
      reason: 'unexpected member(s) note (not covered by the hash)',
    });
  });

  it('verifies lines from an async iterable', async () => {
    async function* source() {
      yield* lines;
    }
    assert.equal((await verifyChain(source())).records, 10);
  });

  it('reports an unreadable file as PDK_AUDIT_READ', async () => {
    await assert.rejects(
      verifyChain(join(dir, 'missing.jsonl')),
      (error: { code: string; message: string }) => {
        assert.equal(error.code, 'PDK_AUDIT_READ');
        assert.match(error.message, /^audit log .*missing\.jsonl could not be opened: ENOENT/);
        return true;
      },
    );
    await assert.rejects(verifyChain(dir), { code: 'PDK_AUDIT_READ', message: /could not be read: EISDIR/ });
  });
});
