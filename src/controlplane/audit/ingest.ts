import { type AuditReply, parseAuditBatch } from '../../audit/index.ts';
import { PaddockError } from '../../core/errors.ts';
import type { Store } from '../store/store.ts';

// The control plane's end of audit shipping: one audit.batch in, one reply out. The store
// does the real work (hash check, chain continuity, idempotency by uid, global sequence); this
// module enforces who may write which chain and turns the outcome into an ack or a nack.

/** The control plane's own chain's source name. */
export const CONTROL_PLANE_SOURCE = 'controlplane';

/**
 * Stores one batch from an authenticated peer and replies. `peerSource` is the source the
 * carrier authenticated (the workspace id its credential names): a batch for any other source
 * is refused, so one supervisor can never write, or fork, another's chain.
 * @example channel.on('audit.batch', async (msg, conn) => conn.reply(await receiveAuditBatch(store, msg, conn.workspaceId)));
 */
export async function receiveAuditBatch(
  store: Store,
  message: unknown,
  peerSource: string,
): Promise<AuditReply> {
  const source =
    typeof (message as { source?: unknown } | null)?.source === 'string'
      ? (message as { source: string }).source
      : peerSource;
  try {
    const batch = parseAuditBatch(message);
    if (batch.source !== peerSource || peerSource === CONTROL_PLANE_SOURCE) {
      throw new PaddockError(
        'PDK_AUDIT_SHIP',
        `audit batch for source ${batch.source} refused: this connection may only write source ${peerSource}`,
      );
    }
    const result = await store.appendAuditEvents(
      batch.events.map((record) => ({
        source: batch.source,
        seq: record.seq,
        uid: eventUid(record.event, batch.source, record.seq),
        classUid: Number(record.event['class_uid']),
        time: record.time,
        event: record.event as never,
        prevHash: record.prev,
        hash: record.hash,
      })),
    );
    const head = result.heads.find((h) => h.source === batch.source);
    if (!head)
      throw new PaddockError('PDK_INTERNAL', `store returned no head for audit source ${batch.source}`);
    return { type: 'audit.ack', source: batch.source, uptoSeq: head.seq, hash: head.hash };
  } catch (error) {
    const code = error instanceof PaddockError ? error.code : 'PDK_INTERNAL';
    const text = error instanceof PaddockError ? error.message : 'internal error';
    return { type: 'audit.nack', source, code, message: text };
  }
}

/** The event's OCSF metadata.uid; a uid-less event gets one derived from its place in the chain. */
function eventUid(event: Readonly<Record<string, unknown>>, source: string, seq: number): string {
  const uid = (event['metadata'] as { uid?: unknown } | undefined)?.uid;
  return typeof uid === 'string' && uid !== '' ? uid : `${source}#${seq}`;
}
