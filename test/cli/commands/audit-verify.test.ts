import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { AuditChainWriter } from '../../../src/audit/index.ts';
import { readLines, sampleEvent, tempDir } from '../../audit/chain-fixtures.ts';
import { runCli } from './run-cli.ts';

// `paddock audit verify FILE [--json]` through main(), with captured streams.

describe('paddock audit verify', () => {
  const dir = tempDir();
  let head = '';
  before(async () => {
    const writer = await AuditChainWriter.open(join(dir, 'audit.jsonl'));
    await writer.appendBatch(Array.from({ length: 12 }, (_, n) => sampleEvent(n + 1)));
    head = writer.head;
    await writer.close();
    const lines = readLines(join(dir, 'audit.jsonl'));
    writeFileSync(
      join(dir, 'removed.jsonl'),
      lines
        .toSpliced(7, 1)
        .map((line) => `${line}\n`)
        .join(''),
    );
    writeFileSync(join(dir, 'empty.jsonl'), '');
  });

  it('prints the record count and head of an intact chain, exit 0', async () => {
    const result = await runCli(['audit', 'verify', 'audit.jsonl'], dir);
    assert.deepEqual(result, {
      code: 0,
      stdout: `audit.jsonl: 12 records, chain intact (head ${head})\n`,
      stderr: '',
    });
  });

  it('names the first bad seq and line of a broken chain, exit 1', async () => {
    const result = await runCli(['audit', 'verify', 'removed.jsonl'], dir);
    assert.deepEqual(result, {
      code: 1,
      stdout:
        'removed.jsonl: chain broken at seq 8 (line 8): found seq 9 where seq 8 was expected: record(s) removed or moved\n',
      stderr: '',
    });
  });

  it('prints JSON with --json', async () => {
    const broken = await runCli(['audit', 'verify', '--json', 'removed.jsonl'], dir);
    assert.equal(broken.code, 1);
    const parsed = JSON.parse(broken.stdout);
    assert.deepEqual(parsed.firstBad, {
      seq: 8,
      line: 8,
      reason: 'found seq 9 where seq 8 was expected: record(s) removed or moved',
    });
    assert.deepEqual([parsed.file, parsed.ok, parsed.records], ['removed.jsonl', false, 7]);
    const intact = await runCli(['audit', 'verify', 'audit.jsonl', '--json'], dir);
    assert.deepEqual(JSON.parse(intact.stdout), { file: 'audit.jsonl', ok: true, records: 12, head });
  });

  it('accepts an empty log', async () => {
    const result = await runCli(['audit', 'verify', 'empty.jsonl'], dir);
    assert.deepEqual(
      [result.code, result.stdout],
      [0, `empty.jsonl: 0 records, chain intact (head ${'0'.repeat(64)})\n`],
    );
  });

  it('reports an unreadable file as PDK_AUDIT_READ, exit 1', async () => {
    const result = await runCli(['audit', 'verify', 'nope.jsonl'], dir);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^error PDK_AUDIT_READ: audit log .*nope\.jsonl could not be opened: ENOENT/);
    assert.match(result.stderr, /\n {2}fix: Check that the file exists and is readable/);
  });

  it('takes at most one FILE, exit 2', async () => {
    const result = await runCli(['audit', 'verify', 'a.jsonl', 'b.jsonl'], dir);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^error PDK_CLI_USAGE: paddock audit verify takes at most one FILE, got 2\n/);
    const help = await runCli(['audit', 'verify', '--help'], dir);
    assert.match(help.stdout, /^Usage: paddock audit verify \[FILE\] \[--data-dir DIR\]/);
  });
});
