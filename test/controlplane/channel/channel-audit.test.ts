import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditSpool, recordHash } from '../../../src/audit/index.ts';
import { ChannelServer, IdentityRegistry } from '../../../src/controlplane/channel/index.ts';
import { openStore, type Store } from '../../../src/controlplane/index.ts';
import {
  CLOSE,
  encodeMessage,
  signChannelCredential,
  type WorkspaceIdentity,
  writeIdentityFile,
} from '../../../src/core/channel/index.ts';
import { ChannelClient } from '../../../src/supervisor/workspace/channel-client.ts';
import {
  ChannelAuditTransport,
  startAuditShipping,
} from '../../../src/supervisor/workspace/channel-audit-transport.ts';
import { dialAndHello } from './channel-support.ts';

// Audit shipping over the real workspace channel into a real SQLite store: a real spool and
// the supervisor's real client and transport deliver; a raw client plays a supervisor that
// tries to write another workspace's chain, or the control plane's, or to flood the ingest.

const dir = mkdtempSync(join(tmpdir(), 'paddock-channel-audit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function event(workspace: string, n: number): Record<string, unknown> {
  return {
    class_uid: 4002,
    time: 1_767_225_600_000 + n,
    metadata: { uid: `${workspace}-${n}-${Math.random()}`, event_code: 'egress.denied' },
    device: { uid: workspace },
    message: `request ${n}`,
  };
}

/** The chain records a spool of `source` wrote (its first segment), as a supervisor would send them. */
async function spooledRecords(source: string, count: number): Promise<Record<string, unknown>[]> {
  const spoolDir = mkdtempSync(join(dir, `records-${source}-`));
  const spool = await AuditSpool.open(spoolDir, { source });
  await spool.appendBatch(Array.from({ length: count }, (_, i) => event(source, i + 1)));
  await spool.close();
  const segment = readdirSync(spoolDir).find((file) => file.startsWith('segment-')) as string;
  return readFileSync(join(spoolDir, segment), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('audit shipping over the workspace channel', () => {
  let store: Store;
  let registry: IdentityRegistry;
  let server: ChannelServer;
  let bare: ChannelServer;
  before(async () => {
    store = await openStore({ url: `sqlite:${join(dir, 'store.db')}` });
    registry = new IdentityRegistry();
    server = await ChannelServer.start({ registry, auditStore: store });
    bare = await ChannelServer.start({ registry });
  });
  after(async () => {
    await server.close();
    await bare.close();
    await store.close();
  });

  it("delivers a workspace's spool through the supervisor's client: stored once, chain intact", async () => {
    const identity = await registry.issue('ws-ship');
    const identityFile = join(dir, 'ws-ship.identity');
    writeIdentityFile(identityFile, identity);
    const spool = await AuditSpool.open(join(dir, 'ws-ship-spool'), { source: 'ws-ship' });
    let client: ChannelClient | undefined;
    const transport = new ChannelAuditTransport({
      send: (message) => client?.sendAuditBatch(message) ?? false,
    });
    client = new ChannelClient({
      url: server.url,
      workspaceId: 'ws-ship',
      identityFile,
      openTerminal: () => Promise.reject(new Error('no terminals in this test')),
      onAuditReply: (message) => transport.onReply(message),
      onDisconnected: () => transport.onDisconnected(),
    });
    const connected = client;
    const shipping = startAuditShipping({ spool, transport, connected: () => connected.connected });
    try {
      for (let n = 1; n <= 30; n++) await spool.append(event('ws-ship', n));
      connected.start();
      await waitFor(async () => (await store.lastAuditEvent('ws-ship'))?.seq === 30);
      // More events while connected are shipped within the next ticks.
      for (let n = 31; n <= 40; n++) await spool.append(event('ws-ship', n));
      await waitFor(async () => (await store.lastAuditEvent('ws-ship'))?.seq === 40);
      const stored = await store.readAuditEvents({ source: 'ws-ship', limit: 100 });
      assert.deepEqual(
        stored.map((record) => record.seq),
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      for (const [i, record] of stored.entries()) {
        assert.equal(record.prevHash, i === 0 ? '0'.repeat(64) : stored[i - 1]?.hash);
        assert.equal(recordHash(record.seq, record.time, record.prevHash, record.event), record.hash);
      }
      await waitFor(async () => {
        const ack = JSON.parse(readFileSync(join(dir, 'ws-ship-spool', 'acknowledged.json'), 'utf8'));
        return ack.seq === 40;
      });
    } finally {
      await shipping.stop();
      connected.stop();
      await spool.close();
    }
  });

  it("refuses a batch for another workspace's source, or the control plane's: nack, nothing stored", async () => {
    const records = await spooledRecords('ws-victim', 3);
    for (const [attacker, claimed] of [
      ['ws-attacker', 'ws-victim'],
      ['ws-attacker', 'controlplane'],
      ['controlplane', 'controlplane'],
    ] as const) {
      const identity: WorkspaceIdentity = await registry.issue(attacker);
      const connection = await dialAndHello(server.url, await signChannelCredential(identity), attacker);
      connection.ws.send(encodeMessage({ t: 'audit_batch', source: claimed, events: records as never }));
      const reply = await connection.next('audit_nack');
      assert.equal(reply['code'], 'PDK_AUDIT_SHIP', `${attacker} writing ${claimed}`);
      assert.match(String(reply['message']), new RegExp(`may only write source ${attacker}`));
      connection.ws.close();
    }
    assert.equal(await store.lastAuditEvent('ws-victim'), undefined);
    assert.equal(await store.lastAuditEvent('ws-attacker'), undefined);
    assert.equal(await store.lastAuditEvent('controlplane'), undefined);
  });

  it('refuses a forged record (hash not over its content) and stores none of the batch', async () => {
    const records = await spooledRecords('ws-forger', 3);
    const forged = records.map((record, i) =>
      i === 1 ? { ...record, event: { ...(record['event'] as object), message: 'rewritten' } } : record,
    );
    const identity = await registry.issue('ws-forger');
    const connection = await dialAndHello(server.url, await signChannelCredential(identity), 'ws-forger');
    connection.ws.send(encodeMessage({ t: 'audit_batch', source: 'ws-forger', events: forged as never }));
    const reply = await connection.next('audit_nack');
    assert.equal(reply['code'], 'PDK_AUDIT_CHAIN_BROKEN');
    assert.equal(await store.lastAuditEvent('ws-forger'), undefined);
    // The genuine batch, then the same again (a lost ack): stored once, acked at the head both times.
    for (let round = 0; round < 2; round++) {
      connection.ws.send(encodeMessage({ t: 'audit_batch', source: 'ws-forger', events: records as never }));
      const ack = await connection.next('audit_ack');
      assert.deepEqual(ack, { t: 'audit_ack', source: 'ws-forger', uptoSeq: 3, hash: records[2]?.['hash'] });
    }
    assert.equal((await store.readAuditEvents({ source: 'ws-forger' })).length, 3);
    connection.ws.close();
  });

  it('closes a connection that sends a second batch before the first is answered, or a malformed one', async () => {
    const identity = await registry.issue('ws-flood');
    const flood = await dialAndHello(server.url, await signChannelCredential(identity), 'ws-flood');
    const small = await spooledRecords('ws-flood', 2);
    // Two small frames arrive together: the second comes while the first is being stored.
    flood.ws.send(encodeMessage({ t: 'audit_batch', source: 'ws-flood', events: small as never }));
    flood.ws.send(encodeMessage({ t: 'audit_batch', source: 'ws-flood', events: small as never }));
    assert.equal(await flood.closed, CLOSE.protocol);

    const records = await spooledRecords('ws-malformed', 2000);
    const second = await registry.issue('ws-malformed');
    for (const bad of [
      { t: 'audit_batch', source: 'ws-malformed', events: [] },
      { t: 'audit_batch', source: 'ws-malformed', events: [{ ...records[0], extra: 1 }] },
      { t: 'audit_batch', source: 'ws-malformed', events: [...records, records[0]] },
    ]) {
      const connection = await dialAndHello(server.url, await signChannelCredential(second), 'ws-malformed');
      connection.ws.send(JSON.stringify(bad));
      assert.equal(await connection.closed, CLOSE.protocol);
    }
    assert.equal(await store.lastAuditEvent('ws-malformed'), undefined);
  });

  it('a control plane without an audit store refuses batches (the spool keeps them)', async () => {
    const records = await spooledRecords('ws-bare', 1);
    const identity = await registry.issue('ws-bare');
    const connection = await dialAndHello(bare.url, await signChannelCredential(identity), 'ws-bare');
    connection.ws.send(encodeMessage({ t: 'audit_batch', source: 'ws-bare', events: records as never }));
    const reply = await connection.next('audit_nack');
    assert.equal(reply['code'], 'PDK_AUDIT_SHIP');
    connection.ws.close();
  });
});
