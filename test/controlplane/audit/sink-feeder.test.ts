import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { auditSystemEvent, createSinks } from '../../../src/audit/index.ts';
import { AuditSinkFeeder } from '../../../src/controlplane/audit/sink-feeder.ts';
import { openStore } from '../../../src/controlplane/index.ts';
import { FAST } from '../../audit/sinks/support.ts';

// The sinks fed from the central store (real SQLite store, real JSONL sink): every stored
// event reaches the sink in global order, whichever source wrote it, and a feeder restarted
// after a clean stop continues from its cursor without sending anything twice.

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
  it('hands every stored event to the sinks once, in global order, across a restart', async () => {
    const store = await openStore({ url: `sqlite:${join(dir, 'store.db')}` });
    const cursorFile = join(dir, 'audit', 'sinks-cursor.json');
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
      const first = new AuditSinkFeeder(store, await createSinks(SINKS, { dataDir: dir }), {
        cursorFile,
      });
      first.start();
      await store.appendChainedAuditEvents('controlplane', [event(3)]);
      first.poke();
      await waitFor(() => uids().length === 3);
      await first.close(5000);
      assert.deepEqual(JSON.parse(readFileSync(cursorFile, 'utf8')), { gseq: 3 });

      // Stored while no feeder ran: the next one starts after its cursor.
      await store.appendChainedAuditEvents('controlplane', [event(4), event(5)]);
      const second = new AuditSinkFeeder(store, await createSinks(SINKS, { dataDir: dir }), {
        cursorFile,
      });
      assert.equal(second.cursor, 3);
      second.start();
      await waitFor(() => uids().length >= 5);
      await second.close(5000);

      const stored = (await store.readAuditLog({ limit: 100 })).map((entry) => entry.uid);
      assert.deepEqual(uids(), stored, 'every stored event once, in global order');
      assert.deepEqual(JSON.parse(readFileSync(cursorFile, 'utf8')), { gseq: 5 });
    } finally {
      await store.close();
    }
  });
});
