import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditBatchMessage } from '../../../src/audit/index.ts';
import type { AuditBatchChannelMessage } from '../../../src/core/channel/index.ts';
import { isPaddockError } from '../../../src/core/errors.ts';
import { ChannelAuditTransport } from '../../../src/supervisor/workspace/channel-audit-transport.ts';

// The supervisor's end of audit shipping, alone: one batch in flight, its answer matched to
// it, and every way the answer can fail to come (not connected, dropped, too slow, another
// source's) rejects, so the spool keeps the events and sends them again. Shipping over the
// real channel into a real store is in test/controlplane/channel/channel-audit.test.ts.

const HASH = 'a'.repeat(64);
const batch: AuditBatchMessage = {
  type: 'audit.batch',
  source: 'ws-1',
  events: [{ seq: 1, time: 1, prev: '0'.repeat(64), hash: HASH, event: { class_uid: 1 } }],
};
const shipFailure = (error: unknown) => isPaddockError(error) && error.code === 'PDK_AUDIT_SHIP';

describe('ChannelAuditTransport', () => {
  it('sends the batch as audit_batch and resolves with the ack or nack for its source', async () => {
    const sent: AuditBatchChannelMessage[] = [];
    const transport = new ChannelAuditTransport({ send: (message) => sent.push(message) > 0 });
    const acked = transport.send(batch);
    assert.deepEqual(sent, [{ t: 'audit_batch', source: 'ws-1', events: batch.events }]);
    transport.onReply({ t: 'audit_ack', source: 'ws-1', uptoSeq: 1, hash: HASH });
    assert.deepEqual(await acked, { type: 'audit.ack', source: 'ws-1', uptoSeq: 1, hash: HASH });
    const nacked = transport.send(batch);
    transport.onReply({ t: 'audit_nack', source: 'ws-1', code: 'PDK_STORE_CONFLICT', message: 'forked' });
    assert.deepEqual(await nacked, {
      type: 'audit.nack',
      source: 'ws-1',
      code: 'PDK_STORE_CONFLICT',
      message: 'forked',
    });
  });

  it('rejects when not connected, on a second batch in flight, on a drop, and on a reply for another source', async () => {
    await assert.rejects(new ChannelAuditTransport({ send: () => false }).send(batch), shipFailure);
    const transport = new ChannelAuditTransport({ send: () => true });
    const first = transport.send(batch);
    await assert.rejects(transport.send(batch), shipFailure);
    transport.onDisconnected();
    await assert.rejects(first, shipFailure);
    const misdirected = transport.send(batch);
    transport.onReply({ t: 'audit_ack', source: 'ws-2', uptoSeq: 1, hash: HASH });
    await assert.rejects(misdirected, shipFailure);
  });

  it('gives up on an answer that does not come (dropping the connection) and ignores it when it comes late', async () => {
    let dropped = 0;
    const transport = new ChannelAuditTransport({
      send: () => true,
      timeoutMs: 50,
      onTimeout: () => dropped++,
    });
    await assert.rejects(transport.send(batch), shipFailure);
    assert.equal(dropped, 1);
    transport.onReply({ t: 'audit_ack', source: 'ws-1', uptoSeq: 1, hash: HASH });
    // The late answer did not settle the next batch.
    const next = transport.send(batch);
    transport.onReply({ t: 'audit_nack', source: 'ws-1', code: 'PDK_STORE_UNAVAILABLE', message: 'busy' });
    assert.equal((await next).type, 'audit.nack');
  });

  it('refuses a batch larger than the channel frame without sending it', async () => {
    let sends = 0;
    const transport = new ChannelAuditTransport({ send: () => ++sends > 0 });
    const huge: AuditBatchMessage = {
      ...batch,
      events: [
        {
          ...(batch.events[0] as AuditBatchMessage['events'][number]),
          event: { x: 'y'.repeat(5 * 1024 * 1024) },
        },
      ],
    };
    await assert.rejects(transport.send(huge), shipFailure);
    assert.equal(sends, 0);
  });
});
