import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChannelServer, IdentityRegistry } from '../../../src/controlplane/channel/index.ts';
import { IMPORTED_SUFFIX } from '../../../src/controlplane/channel/identity-registry.ts';
import { openStore, type Store } from '../../../src/controlplane/index.ts';
import { generateIdentity, signChannelCredential } from '../../../src/core/channel/index.ts';
import { isPaddockError } from '../../../src/core/errors.ts';
import { dial, dialAndHello } from '../channel/channel-support.ts';
import type { StoreBackend } from '../store-suite.ts';
import { postgresBackend, sqliteBackend } from '../store-backends.ts';

// Workspace channel identities kept in the shared store, as two replicas use them (PostgreSQL:
// two `paddock serve` pods; SQLite: `paddock up` and a `paddock apply` on the same file): each
// its own store connections, registry and channel server (a supervisor may dial either). Checked: an identity issued on A authenticates at B's channel; revoked on B, A
// refuses it at once (nothing cached) and neither replica issues the workspace a new one; a
// rotation on one replica retires the old key on both; a replica's channel-identities.json from
// before is imported once and renamed.

interface Replica {
  readonly store: Store;
  readonly registry: IdentityRegistry;
  readonly channel: ChannelServer;
}

async function startReplica(url: string): Promise<Replica> {
  const store = await openStore({ url });
  const registry = new IdentityRegistry({ store });
  const channel = await ChannelServer.start({ registry });
  return { store, registry, channel };
}

async function stopReplica(replica: Replica | undefined): Promise<void> {
  await replica?.channel.close();
  await replica?.store.close();
}

function describeShared(name: string, backend: StoreBackend): void {
  describe(`channel identities shared by two replicas (${name})`, () => {
    let a: Replica;
    let b: Replica;

    before(async () => {
      const url = await backend.freshUrl();
      a = await startReplica(url);
      b = await startReplica(url);
    });
    after(async () => {
      await stopReplica(a);
      await stopReplica(b);
    });

    it('authenticates at B a supervisor whose identity A issued; revoked on B, A refuses it', async () => {
      const identity = await a.registry.issue('ws-shared');
      const atB = await dialAndHello(b.channel.url, await signChannelCredential(identity), 'ws-shared');
      assert.equal(b.channel.isConnected('ws-shared'), true);
      atB.ws.close();
      await atB.closed;

      await b.channel.revoke('ws-shared');
      assert.equal(await a.registry.isRevoked('ws-shared'), true);
      assert.equal((await a.registry.lookup(identity.kid))?.status, 'revoked');
      const refusedAtA = await dial(a.channel.url, await signChannelCredential(identity));
      assert.deepEqual(refusedAtA, { status: 401 });
      await assert.rejects(a.registry.issue('ws-shared'), (error: unknown) =>
        isPaddockError(error, 'PDK_CHANNEL_UNAUTHENTICATED'),
      );
      // Forgetting its keys does not lift the revocation.
      await a.registry.forget('ws-shared');
      await assert.rejects(b.registry.issue('ws-shared'), (error: unknown) =>
        isPaddockError(error, 'PDK_CHANNEL_UNAUTHENTICATED'),
      );
    });

    it('retires on both replicas a key rotated on one; the new key works on both', async () => {
      const first = await a.registry.issue('ws-rotating');
      const next = await generateIdentity('ws-rotating');
      await b.registry.rotate('ws-rotating', next.publicIdentity);
      assert.deepEqual(await dial(a.channel.url, await signChannelCredential(first)), { status: 401 });
      assert.deepEqual(await dial(b.channel.url, await signChannelCredential(first)), { status: 401 });
      for (const replica of [a, b]) {
        const connected = await dialAndHello(
          replica.channel.url,
          await signChannelCredential(next.identity),
          'ws-rotating',
        );
        connected.ws.close();
        await connected.closed;
      }
      const keys = await a.store.listChannelIdentities('ws-rotating');
      assert.deepEqual(
        keys.map((key) => [key.kid, key.status]),
        [
          [first.kid, 'rotated'],
          [next.identity.kid, 'active'],
        ],
      );
      // A key is used once: proposing it again, or for another workspace, is refused.
      await assert.rejects(a.registry.rotate('ws-rotating', next.publicIdentity), (error: unknown) =>
        isPaddockError(error, 'PDK_CHANNEL_UNAUTHENTICATED'),
      );
      await assert.rejects(a.registry.rotate('ws-other', next.publicIdentity), (error: unknown) =>
        isPaddockError(error, 'PDK_CHANNEL_UNAUTHENTICATED'),
      );
    });

    it('keeps one active key per workspace when two replicas issue at once', async () => {
      const issued = await Promise.all([a.registry.issue('ws-race'), b.registry.issue('ws-race')]);
      const keys = await b.store.listChannelIdentities('ws-race');
      assert.equal(keys.length, 2);
      assert.equal(keys.filter((key) => key.status === 'active').length, 1);
      assert.ok(issued.some((identity) => keys.find((key) => key.kid === identity.kid)?.status === 'active'));
    });

    it('never leaves an active key for a workspace revoked while another replica issued it', async () => {
      for (let round = 0; round < 8; round += 1) {
        const workspaceId = `ws-revoke-race-${round}`;
        const issuer = round % 2 === 0 ? a : b;
        const revoker = round % 2 === 0 ? b : a;
        await Promise.allSettled([issuer.registry.issue(workspaceId), revoker.registry.revoke(workspaceId)]);
        assert.equal(await a.registry.isRevoked(workspaceId), true);
        const keys = await a.store.listChannelIdentities(workspaceId);
        assert.deepEqual(
          keys.filter((key) => key.status !== 'revoked'),
          [],
          `round ${round}: a key survived the revocation`,
        );
      }
    });

    it("imports a replica's channel-identities.json once, then renames it", async () => {
      const dir = mkdtempSync(join(tmpdir(), 'paddock-identities-'));
      try {
        const file = join(dir, 'channel-identities.json');
        const kept = await generateIdentity('ws-legacy');
        const old = await generateIdentity('ws-legacy');
        writeFileSync(
          file,
          JSON.stringify({
            identities: [
              { ...old.publicIdentity, status: 'rotated', issuedAt: 1 },
              { ...kept.publicIdentity, status: 'active', issuedAt: 2 },
            ],
            revokedWorkspaces: ['ws-legacy-revoked'],
          }),
          { mode: 0o600 },
        );
        const registry = new IdentityRegistry({ store: a.store, file });
        assert.equal((await registry.lookup(kept.identity.kid))?.status, 'active');
        assert.equal(existsSync(file), false);
        assert.equal(existsSync(`${file}${IMPORTED_SUFFIX}`), true);
        // Seen by the other replica, which never read the file.
        const atB = await dialAndHello(
          b.channel.url,
          await signChannelCredential(kept.identity),
          'ws-legacy',
        );
        atB.ws.close();
        await atB.closed;
        assert.deepEqual(await dial(b.channel.url, await signChannelCredential(old.identity)), {
          status: 401,
        });
        assert.equal(await b.registry.isRevoked('ws-legacy-revoked'), true);
        // Not read again: a file put back later is ignored by this registry.
        writeFileSync(file, JSON.stringify({ identities: [], revokedWorkspaces: ['ws-legacy'] }));
        assert.equal(await registry.isRevoked('ws-legacy'), false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describeShared('postgres', postgresBackend());
describeShared('sqlite', sqliteBackend());
