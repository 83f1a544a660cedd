import type { KeyObject } from 'node:crypto';
import {
  type ChainHead,
  canonicalJson,
  checkCheckpoint,
  GENESIS_HASH,
  recordHashOfCanonical,
  recordHashOfHashedText,
  type SignedCheckpoint,
} from '../../audit/index.ts';
import type { AuditChainLink, Store } from '../store/store.ts';

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
  /**
   * Events read per query. Default 1000: a page is ~1.5 MB of text, small enough to die young;
   * at 10000 each minor GC copies the page being hashed, which costs more than the extra queries.
   */
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
  const pageSize = options.pageSize ?? 1000;
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

  /** Checks one event in global order and takes it into its chain; false (firstBadEvent set) when it is bad. */
  const visit = (entry: AuditChainLink): boolean => {
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
      } else if (recordHashOfHashedText(entry.hashed) !== entry.hash && !matchesAfterCanonicalizing(entry)) {
        reason = 'hash does not match the record content (record edited)';
      }
    }
    if (reason !== undefined) {
      firstBadEvent = { gseq: entry.gseq, source: entry.source, seq: entry.seq, uid: entry.uid, reason };
      return false;
    }
    // Mutated in place: one object per source, not one per event.
    (chain as { seq: number; hash: string }).seq = entry.seq;
    (chain as { seq: number; hash: string }).hash = entry.hash;
    gseq = entry.gseq;
    events += 1;
    return true;
  };

  compareCheckpoints(0);
  // The next page is fetched while this one is hashed (PostgreSQL answers in the meantime).
  let pending = store.readAuditChainLinks({ afterGseq: 0, limit: pageSize });
  reading: for (;;) {
    const page = await pending;
    if (page.length === 0) break;
    pending = store.readAuditChainLinks({
      afterGseq: (page.at(-1) as { gseq: number }).gseq,
      limit: pageSize,
    });
    pending.catch(() => {}); // awaited on the next turn, or dropped when verification stops early
    for (const entry of page) if (!visit(entry)) break reading;
  }
  // A live control plane stores events while this runs: read on up to the snapshot's gseq, so its
  // heads are compared with the chains at the same point (events it does not reach were cut).
  const snapshot = firstBadEvent ? undefined : await store.auditSnapshot();
  catchingUp: while (snapshot && !firstBadEvent && snapshot.gseq > gseq) {
    const page = await store.readAuditChainLinks({
      afterGseq: gseq,
      uptoGseq: snapshot.gseq,
      limit: pageSize,
    });
    if (page.length === 0) break;
    for (const entry of page) if (!visit(entry)) break catchingUp;
  }
  if (snapshot && !firstBadEvent) {
    compareCheckpoints(gseq);
    const beyond = checkpoints[nextCheckpoint];
    if (beyond && beyond.gseq > gseq) {
      badCheckpoint(
        beyond.index,
        `covers gseq ${beyond.gseq} but the store ends at gseq ${gseq}: events were removed from the end`,
      );
    }
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
function matchesAfterCanonicalizing(link: AuditChainLink): boolean {
  // The stored event text, cut out of the hashed text the store assembled around it.
  const tail = `,"prev":"${link.prevHash}","seq":${link.seq},"time":${link.time}}`;
  const text = link.hashed.slice('{"event":'.length, link.hashed.length - tail.length);
  try {
    return (
      recordHashOfCanonical(link.seq, link.time, link.prevHash, canonicalJson(JSON.parse(text))) === link.hash
    );
  } catch {
    return false;
  }
}
