import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { auditSystemEvent, createSinks } from '../../../src/audit/index.ts';
import { AuditSinkFeeder, adoptCursorFile, SINKS_FEED } from '../../../src/controlplane/audit/sink-feeder.ts';
import { openStore } from '../../../src/controlplane/index.ts';
import { FAST } from '../../audit/sinks/support.ts';

// The sinks fed from the central store (real SQLite store, real JSONL sink): every stored
// event reaches the sink in global order, whichever source wrote it, and a feeder restarted
// after a clean stop continues from its cursor, kept in the store, without sending anything
// twice. The cursor file of an older release is moved into the store once.

const dir = mkdtempSync(join(tmpdir(), 'paddock-sink-feeder-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function event(n: number): Record<string, unknown> {
  return auditSystemEvent({
    event: 'audit.exported',
    component: 'cli',
    resource: `export ${n}`,
  }) as unknown as Record<string, unknown>;
}

const SINKS = [{ type: 'jsonl' as const, name: 'file', path: 'out.jsonl', delivery: FAST }];

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('AuditSinkFeeder', () => {
  it('hands every stored event to the sinks once, in global order, across a restart (cursor in the store)', async () => {
    const url = `sqlite:${join(dir, 'store.db')}`;
    let store = await openStore({ url });
    const out = join(dir, 'out.jsonl');
    const uids = () =>
      existsSync(out)
        ? readFileSync(out, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((line) => (JSON.parse(line) as { metadata: { uid: string } }).metadata.uid)
        : [];
    try {
      await store.appendChainedAuditEvents('controlplane', [event(1), event(2)]);
      assert.equal(await store.auditSinkCursor(SINKS_FEED), undefined);
      const first = new AuditSinkFeeder(store, await createSinks(SINKS, { dataDir: dir }));
      await first.start();
      await store.appendChainedAuditEvents('controlplane', [event(3)]);
      first.poke();
      await waitFor(() => uids().length === 3);
      await first.close(5000);
      assert.equal(await store.auditSinkCursor(SINKS_FEED), 3);
      assert.ok(!existsSync(join(dir, 'audit', 'sinks-cursor.json')), 'no cursor file any more');

      // Stored while no feeder ran, and the store closed and opened again (paddock up
      // restarted): the next feeder starts after the cursor the store holds.
      await store.appendChainedAuditEvents('controlplane', [event(4), event(5)]);
      await store.close();
      store = await openStore({ url });
      const second = new AuditSinkFeeder(store, await createSinks(SINKS, { dataDir: dir }));
      await second.start();
      assert.ok(second.cursor >= 3);
      await waitFor(() => uids().length >= 5);
      await second.close(5000);

      const stored = (await store.readAuditLog({ limit: 100 })).map((entry) => entry.uid);
      assert.deepEqual(uids(), stored, 'every stored event once, in global order');
      assert.equal(await store.auditSinkCursor(SINKS_FEED), 5);
    } finally {
      await store.close();
    }
  });

  it("moves an older release's cursor file into the store once, so an upgrade does not send everything again", async () => {
    const upgraded = join(dir, 'upgraded');
    const store = await openStore({ url: `sqlite:${join(upgraded, 'store.db')}` });
    const cursorFile = join(upgraded, 'audit', 'sinks-cursor.json');
    const out = join(upgraded, 'out.jsonl');
    try {
      await store.appendChainedAuditEvents('controlplane', [event(1), event(2), event(3), event(4)]);
      mkdirSync(join(upgraded, 'audit'), { recursive: true });
      writeFileSync(cursorFile, '{"gseq":3}\n');
      assert.equal(await adoptCursorFile(store, cursorFile), 3);
      assert.ok(!existsSync(cursorFile), 'the file is read once, then removed');
      assert.equal(await adoptCursorFile(store, cursorFile), undefined);
      const feeder = new AuditSinkFeeder(store, await createSinks(SINKS, { dataDir: upgraded }));
      await feeder.start();
      assert.equal(feeder.cursor, 3);
      await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').trim().split('\n').length === 1);
      await feeder.close(5000);
      const [fourth] = (await store.readAuditLog({ afterGseq: 3 })).map((entry) => entry.uid);
      const sent = readFileSync(out, 'utf8').trim().split('\n');
      assert.deepEqual(
        sent.map((line) => (JSON.parse(line) as { metadata: { uid: string } }).metadata.uid),
        [fourth],
        'only what the old cursor had not reached',
      );
      // The cursor never moves back: a smaller save (a deposed leader's late flush) is ignored.
      await store.saveAuditSinkCursor(SINKS_FEED, 2);
      assert.equal(await store.auditSinkCursor(SINKS_FEED), 4);
    } finally {
      await store.close();
    }
  });
});
