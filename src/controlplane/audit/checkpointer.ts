import { join, resolve } from 'node:path';
import {
  auditSystemEvent,
  CHECKPOINT_GENESIS,
  type CheckpointSigner,
  type SignedCheckpoint,
  signCheckpoint,
} from '../../audit/index.ts';
import { type Clock, systemClock } from '../../core/clock.ts';
import { createLogger } from '../../core/log.ts';
import type { Store } from '../store/store.ts';
import { CONTROL_PLANE_SOURCE } from './ingest.ts';

// Periodic signed checkpoints of the central audit store. Each one takes a consistent
// snapshot (global sequence + every chain head + the previous checkpoint) under the ingest
// lock, signs it outside the lock (a KMS call may be slow) and stores it under the next index;
// a replica that lost the race for that index simply skips its turn. On a cluster each one is
// first claimed under the `audit` leader's term (`claim`), after the snapshot: a claim granted
// means no newer leader had been elected when the snapshot was taken, so a deposed leader's
// checkpoint can only take an index its successor has not written yet (the index is unique),
// never one after it.

const log = createLogger('audit');

/** Where the control plane keeps its checkpoint signing key; the public key sits beside it (`.pub.pem`). */
export function auditKeyPath(dataDir: string): string {
  return join(resolve(dataDir), 'audit', 'checkpoint-key.pem');
}

export interface AuditCheckpointerOptions {
  /** How often to checkpoint when events arrived since the last one. Default 60000 ms, at least 100. */
  readonly intervalMs?: number;
  readonly clock?: Clock;
  /**
   * Called with each signed checkpoint right before it is stored; a throw (PDK_CLUSTER_NOT_LEADER
   * from a fenced claim) means it is not stored. `paddock serve` claims it under the leader's term.
   */
  readonly claim?: (checkpoint: SignedCheckpoint) => Promise<void>;
}

export class AuditCheckpointer {
  readonly #store: Store;
  readonly #signer: CheckpointSigner;
  readonly #intervalMs: number;
  readonly #clock: Clock;
  readonly #claim: ((checkpoint: SignedCheckpoint) => Promise<void>) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SignedCheckpoint | undefined> | undefined;

  constructor(store: Store, signer: CheckpointSigner, options: AuditCheckpointerOptions = {}) {
    this.#store = store;
    this.#signer = signer;
    this.#intervalMs = Math.max(100, options.intervalMs ?? 60_000);
    this.#clock = options.clock ?? systemClock;
    this.#claim = options.claim;
  }

  /**
   * Writes a checkpoint when the store moved since the last one; resolves to it, or undefined
   * when nothing changed or another replica wrote that index first.
   */
  checkpoint(): Promise<SignedCheckpoint | undefined> {
    this.#running ??= this.#checkpoint().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Checkpoints every intervalMs until stop(); failures are logged and retried next time. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.checkpoint().catch((error: Error) =>
        log.error({ error: error.message }, 'audit checkpoint failed'),
      );
    }, this.#intervalMs);
    this.#timer.unref();
  }

  /**
   * Stops the timer and writes a final checkpoint of what arrived since the last one (not when
   * `final` is false: a replica that lost the `audit` election leaves that to its successor).
   */
  async stop(final = true): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
    if (final) await this.checkpoint();
  }

  async #checkpoint(): Promise<SignedCheckpoint | undefined> {
    const snapshot = await this.#store.auditSnapshot();
    const previous = snapshot.lastCheckpoint;
    if (previous ? previous.gseq >= snapshot.gseq : snapshot.gseq === 0) return undefined;
    // The event recording the previous checkpoint is not news worth another checkpoint, or an
    // idle store would checkpoint forever, one event at a time.
    if (
      previous &&
      snapshot.gseq === previous.gseq + 1 &&
      (await this.#store.auditEventCodeAt(snapshot.gseq)) === 'audit.checkpoint_written'
    )
      return undefined;
    const checkpoint = await signCheckpoint(this.#signer, {
      index: (previous?.index ?? 0) + 1,
      time: Math.floor(this.#clock.now()),
      gseq: snapshot.gseq,
      prev: previous?.hash ?? CHECKPOINT_GENESIS,
      heads: snapshot.heads,
    });
    await this.#claim?.(checkpoint);
    if (!(await this.#store.appendAuditCheckpoint(checkpoint))) return undefined;
    await this.#store.appendChainedAuditEvents(CONTROL_PLANE_SOURCE, [
      auditSystemEvent({
        event: 'audit.checkpoint_written',
        component: CONTROL_PLANE_SOURCE,
        resource: `checkpoint ${checkpoint.index}`,
        message: `audit checkpoint ${checkpoint.index} signed at gseq ${checkpoint.gseq} over ${snapshot.heads.length} chains`,
        details: {
          index: checkpoint.index,
          gseq: checkpoint.gseq,
          sources: snapshot.heads.length,
          key_id: checkpoint.keyId,
        },
      }) as unknown as Record<string, unknown>,
    ]);
    log.info(
      { index: checkpoint.index, gseq: checkpoint.gseq, sources: snapshot.heads.length },
      'audit checkpoint written',
    );
    return checkpoint;
  }
}
