import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import {
  AuditSpool,
  type CheckpointSigner,
  inProcessTransport,
  keyIdOf,
  openFileSigner,
  publicKeyFromPem,
} from '../../../src/audit/index.ts';
import {
  AuditCheckpointer,
  openStore,
  receiveAuditBatch,
  type Store,
  verifyAuditStore,
} from '../../../src/controlplane/index.ts';
import { postgresBackend, sqliteBackend } from '../store-backends.ts';
import type { StoreBackend } from '../store-suite.ts';

// The central audit store end to end on both backends: real spools ship through the real
// ingest (in-process transport), checkpoints are signed with a real Ed25519 key, and the
// verifier finds every kind of tampering done directly in the database.

const keyDir = mkdtempSync(join(tmpdir(), 'paddock-audit-keys-'));
after(() => rmSync(keyDir, { recursive: true, force: true }));

function event(n: number, workspace: string): Record<string, unknown> {
  return {
    class_uid: 4001,
    time: 1_767_225_600_000 + n,
    metadata: { uid: `${workspace}-ev-${n}`, event_code: n % 2 ? 'egress.denied' : 'egress.allowed' },
    device: { uid: workspace },
    actor: { user: { uid: 'sub-ada', email_addr: 'ada@example.com' } },
    action_id: n % 2 ? 2 : 1,
    message: `connection ${n} \u0000 ✓`,
  };
}

function describePipeline(name: string, backend: StoreBackend): void {
  describe(`audit pipeline (${name})`, () => {
    let store: Store;
    let url: string;
    let signer: CheckpointSigner;
    let keys: Map<string, KeyObject>;
    let spoolRoot: string;

    beforeEach(async () => {
      url = await backend.freshUrl();
      store = await openStore({ url });
      signer = openFileSigner(join(keyDir, `${name}-key.pem`));
      keys = new Map([[signer.keyId, publicKeyFromPem(signer.publicKeyPem)]]);
      spoolRoot = mkdtempSync(join(tmpdir(), 'paddock-audit-spools-'));
    });
    afterEach(async () => {
      await store.close();
      rmSync(spoolRoot, { recursive: true, force: true });
    });

    async function shipFrom(workspace: string, count: number, first = 1): Promise<AuditSpool> {
      const spool = await AuditSpool.open(join(spoolRoot, workspace), { source: workspace });
      for (let n = first; n < first + count; n++) await spool.append(event(n, workspace));
      await spool.ship(
        inProcessTransport((batch) => receiveAuditBatch(store, batch, workspace)),
        {
          maxBatchEvents: 25,
        },
      );
      return spool;
    }

    it('stores each source chain once, in one global order, and verifies with checkpoints', async () => {
      const checkpointer = new AuditCheckpointer(store, signer);
      const a = await shipFrom('ws-a', 60);
      assert.ok(await checkpointer.checkpoint());
      const b = await shipFrom('ws-b', 40);
      await store.appendChainedAuditEvents('controlplane', [event(1, 'cp')]);
      const second = await checkpointer.checkpoint();
      assert.equal(second?.index, 2);
      assert.equal(await checkpointer.checkpoint(), undefined, 'nothing new, no checkpoint');
      // A duplicate delivery of everything changes nothing.
      const replay = await store.readAuditEvents({ source: 'ws-a', limit: 60 });
      assert.deepEqual((await store.appendAuditEvents(replay)).inserted, 0);
      const result = await verifyAuditStore(store, { publicKeys: keys });
      assert.deepEqual(
        { ok: result.ok, events: result.events, checkpoints: result.checkpoints },
        { ok: true, events: 103, checkpoints: 2 },
      );
      assert.deepEqual(
        result.heads.map((h) => [h.source, h.seq]),
        [
          ['controlplane', 3], // audit.checkpoint_written, the event above, audit.checkpoint_written
          ['ws-a', 60],
          ['ws-b', 40],
        ],
      );
      assert.equal(result.heads[1]?.hash, a.head);
      assert.equal(result.heads[2]?.hash, b.head);
      const denied = await store.searchAuditLog({
        workspace: 'ws-b',
        decision: 'deny',
        user: 'ada@example.com',
      });
      assert.equal(denied.length, 20);
      assert.ok(denied.every((e) => JSON.parse(e.eventJson).action_id === 2));
      await a.close();
      await b.close();
    });

    it('refuses a batch for another source than the connection is for (no chain spoofing)', async () => {
      const spool = await AuditSpool.open(join(spoolRoot, 'ws-a'), { source: 'ws-a' });
      await spool.append(event(1, 'ws-a'));
      await assert.rejects(
        spool.ship(inProcessTransport((batch) => receiveAuditBatch(store, batch, 'ws-evil'))),
        {
          code: 'PDK_AUDIT_SHIP',
          message:
            'the control plane refused audit batch seq 1..1 of ws-a: PDK_AUDIT_SHIP: audit batch for source ws-a refused: this connection may only write source ws-evil',
        },
      );
      const reply = await receiveAuditBatch(
        store,
        { type: 'audit.batch', source: 'controlplane', events: [] },
        'controlplane',
      );
      assert.equal(reply.type, 'audit.nack');
      assert.equal((await store.auditSnapshot()).gseq, 0);
      await spool.close();
    });

    it('reports the first edited record precisely', async () => {
      await (await shipFrom('ws-a', 30)).close();
      await backend.sql(
        url,
        `UPDATE audit_events SET event = replace(event, 'connection 17 ', 'connection 71 ') WHERE source = 'ws-a' AND seq = 17`,
      );
      const result = await verifyAuditStore(store, { publicKeys: keys });
      assert.equal(result.ok, false);
      assert.deepEqual(result.firstBadEvent, {
        gseq: 17,
        source: 'ws-a',
        seq: 17,
        uid: 'ws-a-ev-17',
        reason: 'hash does not match the record content (record edited)',
      });
      assert.equal(result.events, 16);
    });

    it('accepts event text stored before it was kept canonical, and still catches an edit in such text', async () => {
      await (await shipFrom('ws-a', 12)).close();
      // Same content, not canonical (a space): the hash is over the canonical form, so it verifies.
      await backend.sql(
        url,
        `UPDATE audit_events SET event = replace(event, '{"action_id":', '{ "action_id":') WHERE seq IN (5, 9)`,
      );
      const intact = await verifyAuditStore(store, { publicKeys: keys });
      assert.equal(intact.ok, true, JSON.stringify(intact.firstBadEvent));
      assert.equal(intact.events, 12);
      await backend.sql(
        url,
        `UPDATE audit_events SET event = replace(event, 'connection 9 ', 'connection 8 ') WHERE seq = 9`,
      );
      const edited = await verifyAuditStore(store, { publicKeys: keys });
      assert.equal(edited.ok, false);
      assert.deepEqual(
        [edited.events, edited.firstBadEvent?.seq, edited.firstBadEvent?.reason],
        [8, 9, 'hash does not match the record content (record edited)'],
      );
    });

    it('detects events cut off the end through the checkpoint, even when the head table is fixed up', async () => {
      await (await shipFrom('ws-a', 30)).close();
      await new AuditCheckpointer(store, signer).checkpoint();
      // The last three events and the checkpoint's own event go; the heads are fixed up to match.
      await backend.sql(url, `DELETE FROM audit_events WHERE gseq > 27`);
      const cut = await backend.sql(url, `SELECT hash FROM audit_events WHERE seq = 27`);
      await backend.sql(
        url,
        `DELETE FROM audit_sources WHERE source = 'controlplane'; UPDATE audit_sources SET seq = 27, gseq = 27, hash = '${String(cut[0]?.['hash'])}'; UPDATE audit_state SET gseq = 27`,
      );
      const result = await verifyAuditStore(store, { publicKeys: keys });
      assert.equal(result.ok, false);
      assert.deepEqual(result.firstBadCheckpoint, {
        index: 1,
        reason: 'covers gseq 30 but the store ends at gseq 27: events were removed from the end',
      });
    });

    it('detects a rewritten chain: the checkpoint heads no longer match', async () => {
      await (await shipFrom('ws-a', 10)).close();
      await new AuditCheckpointer(store, signer).checkpoint();
      await backend.sql(url, `UPDATE audit_events SET hash = '${'a'.repeat(64)}' WHERE seq = 10`);
      const result = await verifyAuditStore(store, { publicKeys: keys });
      assert.equal(result.firstBadEvent?.seq, 10);
      assert.equal(result.ok, false);
    });

    it('rejects a checkpoint signed by an untrusted key, edited, or removed from the middle', async () => {
      const checkpointer = new AuditCheckpointer(store, signer);
      for (const ws of ['ws-a', 'ws-b', 'ws-c']) {
        await (await shipFrom(ws, 5)).close();
        await checkpointer.checkpoint();
      }
      const other = generateKeyPairSync('ed25519').publicKey;
      const untrusted = await verifyAuditStore(store, { publicKeys: new Map([[keyIdOf(other), other]]) });
      assert.deepEqual(untrusted.firstBadCheckpoint, {
        index: 1,
        reason: `signed by key ${signer.keyId}, which is not among the trusted public keys`,
      });
      await backend.sql(
        url,
        `UPDATE audit_checkpoints SET signature = '${Buffer.alloc(64).toString('base64')}' WHERE idx = 2`,
      );
      assert.deepEqual((await verifyAuditStore(store, { publicKeys: keys })).firstBadCheckpoint, {
        index: 2,
        reason: `Ed25519 signature does not verify with key ${signer.keyId}`,
      });
      await backend.sql(url, 'DELETE FROM audit_checkpoints WHERE idx = 2');
      assert.deepEqual((await verifyAuditStore(store, { publicKeys: keys })).firstBadCheckpoint, {
        index: 3,
        reason: 'index 3 where 2 was expected: a checkpoint is missing',
      });
    });
  });
}

describePipeline('sqlite', sqliteBackend());
describePipeline('postgres', postgresBackend());
