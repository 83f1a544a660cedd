import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  decodeText,
  firstInvalidUtf8,
  MAX_FILE_BYTES,
  readSourceFile,
} from '../../src/config/read-source.ts';
import { writeRepo } from './temp-repo.ts';

function problemOf(result: Awaited<ReturnType<typeof readSourceFile>>) {
  assert.ok('problem' in result, 'expected a problem');
  return result.problem;
}

describe('readSourceFile', () => {
  it('reads a UTF-8 file and drops a byte order mark', async () => {
    const root = writeRepo({ 'a.yaml': '\uFEFFname: café\n' });
    assert.deepEqual(await readSourceFile(root, 'a.yaml'), { text: 'name: café\n' });
  });

  it('reports a 2 MiB file as too large without reading it', async () => {
    const root = writeRepo({ 'big.yaml': `a: ${'x'.repeat(2 * 1024 * 1024)}\n` });
    const problem = problemOf(await readSourceFile(root, 'big.yaml'));
    assert.equal(problem.file, 'big.yaml');
    assert.equal(problem.line, 1);
    assert.equal(problem.path, '');
    assert.equal(
      problem.message,
      `file is too large (${2 * 1024 * 1024 + 4} bytes); desired-state files are limited to ${MAX_FILE_BYTES} bytes (1 MiB): split it or remove content`,
    );
  });

  it('accepts a file of exactly the limit', async () => {
    const root = writeRepo({ 'edge.yaml': 'x'.repeat(16) });
    assert.deepEqual(await readSourceFile(root, 'edge.yaml', 16), { text: 'x'.repeat(16) });
    assert.match(
      problemOf(await readSourceFile(root, 'edge.yaml', 15)).message,
      /^file is too large \(16 bytes\)/,
    );
  });

  it('reports a binary file with the position of its first NUL byte', async () => {
    const root = writeRepo({ 'logo.yaml': new Uint8Array([0x61, 0x0a, 0x62, 0x00, 0xff]) });
    const problem = problemOf(await readSourceFile(root, 'logo.yaml'));
    assert.deepEqual(problem, {
      file: 'logo.yaml',
      line: 2,
      column: 2,
      path: '',
      message: 'is a binary file (it contains a NUL byte); desired-state files are UTF-8 text',
    });
  });

  it('reports invalid UTF-8 (a Latin-1 file) with line and column', async () => {
    // "goal: café" saved as Latin-1: é is the single byte 0xe9.
    const bytes = new Uint8Array([...Buffer.from('a: 1\ngoal: caf'), 0xe9, 0x0a]);
    const problem = problemOf(await readSourceFile(writeRepo({ 'l1.yaml': bytes }), 'l1.yaml'));
    assert.deepEqual(problem, {
      file: 'l1.yaml',
      line: 2,
      column: 10,
      path: '',
      message: 'is not valid UTF-8 (byte 0xe9); save the file as UTF-8',
    });
  });

  it('names UTF-16 instead of calling it binary', async () => {
    const bytes = new Uint8Array([0xff, 0xfe, 0x61, 0x00]);
    const problem = problemOf(await readSourceFile(writeRepo({ 'u16.yaml': bytes }), 'u16.yaml'));
    assert.equal(problem.message, 'is UTF-16 encoded; save it as UTF-8');
  });

  it('refuses a symbolic link, even to a readable file', async () => {
    const root = writeRepo({ 'real.yaml': 'a: 1\n' });
    symlinkSync(join(root, 'real.yaml'), join(root, 'link.yaml'));
    const problem = problemOf(await readSourceFile(root, 'link.yaml'));
    assert.equal(problem.file, 'link.yaml');
    assert.equal(
      problem.message,
      'is a symbolic link; Paddock reads only regular files, so that every rule is reviewed in this repository',
    );
  });

  it('does not hang on a FIFO', { timeout: 5000 }, async () => {
    const root = writeRepo({});
    execFileSync('mkfifo', [join(root, 'pipe.yaml')]);
    assert.equal(problemOf(await readSourceFile(root, 'pipe.yaml')).message, 'is not a regular file');
  });

  it('reports a missing file', async () => {
    assert.equal(problemOf(await readSourceFile(writeRepo({}), 'gone.yaml')).message, 'file not found');
  });
});

describe('firstInvalidUtf8', () => {
  const check = (bytes: number[]) => firstInvalidUtf8(new Uint8Array(bytes));

  it('accepts valid sequences of every length', () => {
    const text = Buffer.from('a é € 𝄞');
    assert.equal(firstInvalidUtf8(text), text.length);
  });

  it('rejects overlong forms, surrogates, values past U+10FFFF and truncation', () => {
    assert.equal(check([0x61, 0xc0, 0xaf]), 1); // overlong "/"
    assert.equal(check([0xe0, 0x80, 0xaf]), 0); // overlong 3-byte
    assert.equal(check([0xed, 0xa0, 0x80]), 0); // UTF-16 surrogate D800
    assert.equal(check([0xf4, 0x90, 0x80, 0x80]), 0); // U+110000
    assert.equal(check([0x61, 0x62, 0xe2, 0x82]), 2); // cut off
    assert.equal(check([0x80]), 0); // lone continuation byte
  });

  it('agrees with decodeText on a valid file', () => {
    assert.deepEqual(decodeText('f', Buffer.from('x: ✓\n')), { text: 'x: ✓\n' });
  });
});
