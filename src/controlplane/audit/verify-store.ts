import type { KeyObject } from 'node:crypto';
import {
  type ChainHead,
  canonicalJson,
  checkCheckpoint,
  GENESIS_HASH,
  recordHashOfCanonical,
  type SignedCheckpoint,
} from '../../audit/index.ts';
import type { Store } from '../store/store.ts';

// Verifies the central audit store in one pass in global order, in constant memory per source:
// every record's hash over its content, each source's chain (seq +1, prev = previous hash),
// the global sequence (no gap), the checkpoint chain (canonical body, hash, Ed25519 signature,
// index +1, prev = previous checkpoint's hash) and that each checkpoint's heads are exactly
// the chains' heads at its gseq. A checkpoint beyond the store's end means events were cut
// off the end; a head in the sources table the events do not reach means the same for one
// source. The first bad record and the first bad checkpoint are reported precisely.

export interface BadAuditEvent {
  readonly gseq: number;
  readonly source: string;
  readonly seq: number;
  readonly uid: string;
  readonly reason: string;
}

export interface BadCheckpoint {
  readonly index: number;
  readonly reason: string;
}

export interface AuditStoreVerification {
  readonly ok: boolean;
  /** Events verified before the first bad one (all when it is undefined). */
  readonly events: number;
  /** Checkpoints verified before the first bad one. */
  readonly checkpoints: number;
  /** Each source's verified head, sorted by source. */
  readonly heads: readonly ChainHead[];
  readonly firstBadEvent?: BadAuditEvent;
  readonly firstBadCheckpoint?: BadCheckpoint;
}

export interface VerifyAuditStoreOptions {
  /** Trusted checkpoint keys by key id (keyIdOf). Without the key that signed one, a checkpoint fails. */
  readonly publicKeys: ReadonlyMap<string, KeyObject>;
  /** Events read per query. Default 10000. */
  readonly pageSize?: number;
}

/**
 * Verifies chains, the global sequence and checkpoints of the store.
 * @example const result = await verifyAuditStore(store, { publicKeys: new Map([[keyIdOf(key), key]]) });
 */
export async function verifyAuditStore(
  store: Store,
  options: VerifyAuditStoreOptions,
): Promise<AuditStoreVerification> {
  const pageSize = options.pageSize ?? 10_000;
  const checkpoints: SignedCheckpoint[] = [];
  let firstBadCheckpoint: BadCheckpoint | undefined;
  // Checkpoints first: only those whose own chain holds are compared with the events.
  for (let after = 0; ; ) {
    const page = await store.listAuditCheckpoints({ afterIndex: after, limit: 1000 });
    if (page.length === 0) break;
    for (const checkpoint of page) {
      if (firstBadCheckpoint) break;
      const check = checkCheckpoint(checkpoint, checkpoints.at(-1), options.publicKeys);
      if ('invalid' in check) firstBadCheckpoint = { index: checkpoint.index, reason: check.invalid };
      else checkpoints.push(checkpoint);
    }
    after = (page.at(-1) as SignedCheckpoint).index;
  }
  const bodies = checkpoints.map((cp) => JSON.parse(cp.body) as { heads: ChainHead[] });

  const chains = new Map<string, { seq: number; hash: string }>();
  let events = 0;
  let gseq = 0;
  let nextCheckpoint = 0;
  let firstBadEvent: BadAuditEvent | undefined;
  let verifiedCheckpoints = 0;
  const badCheckpoint = (index: number, reason: string) => {
    firstBadCheckpoint ??= { index, reason };
  };
  const compareCheckpoints = (upto: number) => {
    while (
      nextCheckpoint < checkpoints.length &&
      (checkpoints[nextCheckpoint] as SignedCheckpoint).gseq <= upto
    ) {
      const cp = checkpoints[nextCheckpoint] as SignedCheckpoint;
      const mismatch = headsMismatch(bodies[nextCheckpoint]?.heads ?? [], chains);
      if (mismatch) {
        badCheckpoint(cp.index, `heads do not match the chains at gseq ${cp.gseq}: ${mismatch}`);
        nextCheckpoint = checkpoints.length;
        return;
      }
      verifiedCheckpoints = nextCheckpoint + 1;
      nextCheckpoint += 1;
    }
  };

  compareCheckpoints(0);
  // The next page is fetched while this one is hashed (PostgreSQL answers in the meantime).
  let pending = store.readAuditLog({ afterGseq: 0, limit: pageSize });
  reading: for (;;) {
    const page = await pending;
    if (page.length === 0) break;
    pending = store.readAuditLog({ afterGseq: (page.at(-1) as { gseq: number }).gseq, limit: pageSize });
    pending.catch(() => {}); // awaited on the next turn, or dropped when verification stops early
    for (const entry of page) {
      let reason: string | undefined;
      let chain = chains.get(entry.source);
      if (entry.gseq !== gseq + 1) {
        reason = `gseq ${gseq + 1} is missing (next is ${entry.gseq}): events were removed`;
      } else {
        compareCheckpoints(gseq);
        if (!chain) {
          chain = { seq: 0, hash: GENESIS_HASH };
          chains.set(entry.source, chain);
        }
        if (entry.seq !== chain.seq + 1) {
          reason = `seq ${entry.seq} follows seq ${chain.seq} of source ${entry.source}: records removed or reordered`;
        } else if (entry.prevHash !== chain.hash) {
          reason =
            chain.seq === 0
              ? 'prev is not the genesis hash'
              : `prev does not match the hash of seq ${chain.seq}`;
        } else if (
          recordHashOfCanonical(entry.seq, entry.time, entry.prevHash, entry.eventJson) !== entry.hash &&
          !matchesAfterCanonicalizing(entry.seq, entry.time, entry.prevHash, entry.eventJson, entry.hash)
        ) {
          reason = 'hash does not match the record content (record edited)';
        }
      }
      if (reason !== undefined) {
        firstBadEvent = { gseq: entry.gseq, source: entry.source, seq: entry.seq, uid: entry.uid, reason };
        break reading;
      }
      // Mutated in place: one object per source, not one per event.
      (chain as { seq: number; hash: string }).seq = entry.seq;
      (chain as { seq: number; hash: string }).hash = entry.hash;
      gseq = entry.gseq;
      events += 1;
    }
  }
  if (!firstBadEvent) {
    compareCheckpoints(gseq);
    const beyond = checkpoints[nextCheckpoint];
    if (beyond && beyond.gseq > gseq) {
      badCheckpoint(
        beyond.index,
        `covers gseq ${beyond.gseq} but the store ends at gseq ${gseq}: events were removed from the end`,
      );
    }
    const snapshot = await store.auditSnapshot();
    const mismatch =
      snapshot.gseq === gseq
        ? headsMismatch(snapshot.heads, chains)
        : `global sequence says ${snapshot.gseq}, events end at ${gseq}`;
    if (mismatch) {
      firstBadEvent = {
        gseq: gseq + 1,
        source: '',
        seq: 0,
        uid: '',
        reason: `the store's chain heads disagree with its events (${mismatch}): events were removed from the end`,
      };
    }
  }
  const heads = [...chains.entries()]
    .map(([source, head]) => ({ source, seq: head.seq, hash: head.hash }))
    .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  return {
    ok: !firstBadEvent && !firstBadCheckpoint,
    events,
    checkpoints: verifiedCheckpoints,
    heads,
    firstBadEvent,
    firstBadCheckpoint,
  };
}

/** Why `heads` is not exactly the chains' state, or undefined when it is. */
function headsMismatch(
  heads: readonly ChainHead[],
  chains: ReadonlyMap<string, { seq: number; hash: string }>,
): string | undefined {
  if (heads.length !== chains.size) return `${heads.length} heads for ${chains.size} chains`;
  for (const head of heads) {
    const chain = chains.get(head.source);
    if (!chain) return `source ${head.source} has no events`;
    if (chain.seq !== head.seq || chain.hash !== head.hash)
      return `source ${head.source} is at seq ${chain.seq}, the head says seq ${head.seq}${chain.seq === head.seq ? ' with another hash' : ''}`;
  }
  return undefined;
}

/** Events stored before text was kept canonical: hash them the slow way. */
function matchesAfterCanonicalizing(
  seq: number,
  time: number,
  prev: string,
  text: string,
  hash: string,
): boolean {
  try {
    return recordHashOfCanonical(seq, time, prev, canonicalJson(JSON.parse(text))) === hash;
  } catch {
    return false;
  }
}
