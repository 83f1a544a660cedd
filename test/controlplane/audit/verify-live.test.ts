import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { auditSystemEvent, keyIdOf, openFileSigner, publicKeyFromPem } from '../../../src/audit/index.ts';
import { AuditCheckpointer } from '../../../src/controlplane/audit/checkpointer.ts';
import { verifyAuditStore } from '../../../src/controlplane/audit/verify-store.ts';
import { openStore } from '../../../src/controlplane/store/open-store.ts';
import type { Store } from '../../../src/controlplane/store/store.ts';

// `paddock audit verify` against a live control plane (on a cluster the audit leader checkpoints
// while an operator verifies): events and a checkpoint stored after the verification read the
// last page, but before it reads the store's heads, are not a truncation. Real SQLite store; the
// concurrent writer runs at the exact moment the verifier asks for the heads.

const dir = mkdtempSync(join(tmpdir(), 'paddock-verify-live-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function events(n: number): Record<string, unknown>[] {
  return Array.from(
    { length: n },
    (_, i) =>
      auditSystemEvent({
        event: 'audit.exported',
        component: 'cli',
        resource: `export ${i}`,
      }) as unknown as Record<string, unknown>,
  );
}

describe('verifyAuditStore on a live store', () => {
  it('reads on to the heads it compares with: events and checkpoints written meanwhile still verify', async () => {
    const store = await openStore({ url: `sqlite:${join(dir, 'store.db')}` });
    try {
      const signer = openFileSigner(join(dir, 'checkpoint-key.pem'));
      const checkpointer = new AuditCheckpointer(store, signer);
      await store.appendChainedAuditEvents('controlplane', events(30));
      await checkpointer.checkpoint();
      let wrote = false;
      // The store as the verifier sees it while a replica writes: the writes land right before the heads are read.
      const live = new Proxy(store, {
        get(target, property) {
          if (property === 'auditSnapshot')
            return async () => {
              if (!wrote) {
                wrote = true;
                await target.appendChainedAuditEvents('ws-live', events(5));
                await checkpointer.checkpoint();
                await target.appendChainedAuditEvents('controlplane', events(2));
              }
              return target.auditSnapshot();
            };
          const value = Reflect.get(target, property);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }) as Store;
      const publicKey = publicKeyFromPem(signer.publicKeyPem);
      const result = await verifyAuditStore(live, {
        publicKeys: new Map([[keyIdOf(publicKey), publicKey]]),
        pageSize: 7,
      });
      assert.ok(wrote);
      assert.equal(result.ok, true, JSON.stringify(result));
      const stored = (await store.auditSnapshot()).gseq;
      assert.equal(result.events, stored, 'every event up to the heads was verified');
      assert.deepEqual(
        result.heads.map((head) => head.source),
        ['controlplane', 'ws-live'],
      );
    } finally {
      await store.close();
    }
  });
});
