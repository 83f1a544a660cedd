import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  listRecordings,
  readRecording,
  RecordingWriter,
} from '../../../src/controlplane/broker/recording.ts';

// Issue 6 (control plane), terminal recordings: asciicast v2, streamed, 0600, hashed, and
// never a path an id could steer.

describe('terminal recordings', () => {
  const base = mkdtempSync(join(tmpdir(), 'pdk-rec-'));
  const dir = join(base, 'recordings');
  after(() => rmSync(base, { recursive: true, force: true }));
  let clock = 1_800_000_000_000;
  const start = (id: string, extra: object = {}) => ({
    id,
    workspaceId: 'ws-1',
    userId: 'alice@example.com',
    sessionId: 's-1',
    size: { cols: 80, rows: 24 },
    now: () => clock,
    ...extra,
  });

  it('writes asciicast v2 with times, keeps split UTF-8 whole, and seals a matching SHA-256', async () => {
    const id = randomUUID();
    const writer = await RecordingWriter.open(dir, start(id));
    const live = await listRecordings(dir);
    assert.equal(live.length, 1);
    assert.equal(live[0]?.sha256, undefined, 'a live recording has no digest yet');
    const euro = Buffer.from('€ ok\r\n'); // € is three bytes: split it across two chunks
    clock += 250;
    writer.output(euro.subarray(0, 2));
    clock += 250;
    writer.output(euro.subarray(2));
    writer.resize({ cols: 100, rows: 30 });
    writer.input(Buffer.from('secret\r'));
    clock += 1000;
    const sealed = await writer.seal({ closeReason: 'exited', exitCode: 0 });
    const bytes = readFileSync(sealed.path);
    assert.equal(sealed.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(sealed.sizeBytes, bytes.byteLength);
    assert.equal(statSync(sealed.path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, `${id}.json`)).mode & 0o777, 0o600);
    const lines = bytes
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(lines[0], {
      version: 2,
      width: 80,
      height: 24,
      timestamp: 1_800_000_000,
      env: { TERM: 'xterm-256color', SHELL: '/bin/bash' },
    });
    assert.deepEqual(lines.slice(1), [
      [0.5, 'o', '€ ok\r\n'],
      [0.5, 'r', '100x30'],
    ]);
    const [info] = await listRecordings(dir, { workspaceId: 'ws-1' });
    assert.deepEqual(
      {
        sha256: info?.sha256,
        endedAt: info?.endedAt,
        closeReason: info?.closeReason,
        exitCode: info?.exitCode,
      },
      { sha256: sealed.sha256, endedAt: clock, closeReason: 'exited', exitCode: 0 },
    );
    assert.deepEqual(await listRecordings(dir, { workspaceId: 'ws-2' }), []);
  });

  it('records input only when asked to', async () => {
    const writer = await RecordingWriter.open(dir, start(randomUUID(), { recordInput: true }));
    writer.input(Buffer.from('ls\r'));
    const sealed = await writer.seal({ closeReason: 'client_closed' });
    assert.match(readFileSync(sealed.path, 'utf8'), /\[0,"i","ls\\r"\]/);
  });

  it('never overwrites an existing file and refuses ids that are not UUIDs', async () => {
    const id = randomUUID();
    writeFileSync(join(dir, `${id}.cast`), 'planted');
    await assert.rejects(RecordingWriter.open(dir, start(id)), { code: 'PDK_BROKER_RECORDING' });
    assert.equal(readFileSync(join(dir, `${id}.cast`), 'utf8'), 'planted');
    for (const bad of ['../../etc/passwd', `${randomUUID()}/../x`, '', 'ABC']) {
      await assert.rejects(readRecording(dir, bad), {
        code: 'PDK_BROKER_RECORDING_NOT_FOUND',
        message: 'no recording with that id',
      });
    }
    await assert.rejects(readRecording(dir, randomUUID()), { code: 'PDK_BROKER_RECORDING_NOT_FOUND' });
  });

  it('lists nothing for a directory that does not exist yet', async () => {
    assert.deepEqual(await listRecordings(join(base, 'absent')), []);
  });
});
