import { existsSync } from 'node:fs';
import type pg from 'pg';
import {
  type AuditSinks,
  type CheckpointSigner,
  createSinks,
  type OcsfEvent,
  openProvisionedSigner,
  type SinkConfig,
} from '../../audit/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import { AuditCheckpointer } from '../audit/checkpointer.ts';
import { AuditSinkFeeder } from '../audit/sink-feeder.ts';
import type { Store } from '../store/store.ts';
import { claimFencedStep } from './fenced-runs.ts';
import { LeaderElection } from './leader-election.ts';

// The audit trail's outward half on a cluster: exactly one replica, the leader of the `audit`
// election, feeds the SIEM sinks from the shared store and signs its checkpoints. It is an
// election of its own (not the reconciler's), so the two jobs can land on different replicas
// and a slow reconciler pass never delays the audit feed. The feed's cursor is in the store, so
// a new leader continues where the last one saved (at-least-once: what the old leader handed
// on but had not saved as delivered is sent again, with the same event uid). Each checkpoint is
// claimed under the leader's term before it is stored (AuditCheckpointer `claim`), so a deposed
// leader never writes one after its successor's. Every replica signs with the one key the chart
// mounts from a Secret; none is ever generated here.

const log = createLogger('audit');

/** The election whose leader feeds the sinks and signs checkpoints. */
export const AUDIT_ELECTION = 'audit';

/** Where the chart mounts the checkpoint signing key (Secret `audit.signingKey.secretName`). */
export const DEFAULT_AUDIT_KEY_FILE = '/etc/paddock/audit/checkpoint-key.pem';

/** How long a leader that steps down gives the sinks to deliver what they hold (the rest is dead-lettered). */
const SINK_CLOSE_DEADLINE_MS = 10_000;

/**
 * The checkpoint signer of a replica: the provisioned key at `file`, never a generated one
 * (replicas with keys of their own would sign checkpoints no single public key verifies).
 * PDK_SERVE_AUDIT_KEY when the file is missing; PDK_AUDIT_KEY when it is unusable.
 */
export function openClusterAuditSigner(file: string): CheckpointSigner {
  if (!existsSync(file))
    throw new PaddockError(
      'PDK_SERVE_AUDIT_KEY',
      `the audit checkpoint signing key ${file} does not exist: create an Ed25519 key once and mount it on every replica (the chart's Secret audit.signingKey.secretName, keys checkpoint-key.pem and checkpoint-key.pub.pem)`,
    );
  return openProvisionedSigner(file);
}

export interface AuditLeaderOptions {
  /** postgres:// URL of the shared store (the election's own connection). */
  readonly url: string;
  /** Connections for the fenced checkpoint claims. */
  readonly pool: pg.Pool;
  readonly store: Store;
  readonly signer: CheckpointSigner;
  /** paddock.yaml `spec.audit.sinks`. */
  readonly sinks: readonly SinkConfig[];
  /** This replica's data directory: relative sink paths and dead-letter files go under it. */
  readonly dataDir: string;
  readonly replicaId: string;
  /** Records a sink's own events (a JSONL file rotated) like any other. */
  readonly audit: (event: OcsfEvent) => Promise<unknown>;
  readonly env?: NodeJS.ProcessEnv;
  /** How often the leader checkpoints when events arrived. Default 60 s. */
  readonly checkpointIntervalMs?: number;
  /** How often the leader reads the store for the sinks. Default 200 ms. */
  readonly feedIntervalMs?: number;
  /** How often a standby tries the lock. Default 1 s. */
  readonly electionRetryMs?: number;
}

interface Term {
  readonly term: number;
  readonly feeder: AuditSinkFeeder;
  readonly checkpointer: AuditCheckpointer;
}

export class AuditLeader {
  readonly election: LeaderElection;
  readonly #options: AuditLeaderOptions;
  /** Sinks created (and so checked) at start, used by the first term this replica wins. */
  #ready: AuditSinks | undefined;
  #current: Term | undefined;
  /** Terms begin and end one after the other, in the order the election reports them. */
  #transition: Promise<void> = Promise.resolve();
  #stopping = false;

  private constructor(options: AuditLeaderOptions, ready: AuditSinks) {
    this.#options = options;
    this.#ready = ready;
    this.election = new LeaderElection({
      url: options.url,
      election: AUDIT_ELECTION,
      holder: options.replicaId,
      retryMs: options.electionRetryMs ?? 1000,
      onElected: (term) => this.#serially(() => this.#begin(term)),
      onLost: (term) => void this.#serially(() => this.#end(term, false)),
    });
  }

  /**
   * Creates the sinks (PDK_AUDIT_SINK_CONFIG when one cannot work: every replica refuses to start
   * on a configuration its leader could not run) and starts campaigning.
   */
  static async start(options: AuditLeaderOptions): Promise<AuditLeader> {
    const leader = new AuditLeader(options, await leaderSinks(options));
    await leader.election.start();
    return leader;
  }

  /** The term this replica feeds the sinks under, or undefined on a standby. */
  get term(): number | undefined {
    return this.#current?.term;
  }

  /** A leader writes a last checkpoint and flushes the sinks, then gives up the lock. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#serially(async () => {
      if (this.#current) await this.#end(this.#current.term, true);
    });
    await this.election.stop();
    await this.#ready?.close(0);
    this.#ready = undefined;
  }

  #serially(step: () => Promise<void>): Promise<void> {
    this.#transition = this.#transition
      .then(step)
      .catch((error: Error) => log.error({ error: error.message }, 'audit leadership change failed'));
    return this.#transition;
  }

  /** Starts the term's feed and checkpoints; on failure (the store unreachable) tries again while the term lasts. */
  async #begin(term: number): Promise<void> {
    if (this.election.term !== term || this.#current || this.#stopping) return; // lost again, or already begun
    try {
      await this.#beginOnce(term);
    } catch (error) {
      log.error({ term, error: (error as Error).message }, 'audit leader could not start feeding the sinks');
      const retry = setTimeout(
        () => void this.#serially(() => this.#begin(term)),
        this.#options.electionRetryMs ?? 1000,
      );
      retry.unref();
    }
  }

  async #beginOnce(term: number): Promise<void> {
    const { store, signer } = this.#options;
    const last = (await store.auditSnapshot()).lastCheckpoint;
    if (last && last.keyId !== signer.keyId)
      log.warn(
        { previous: last.keyId, current: signer.keyId },
        'the checkpoint signing key changed: verifying the store now needs both public keys',
      );
    const sinks = this.#ready ?? (await leaderSinks(this.#options));
    this.#ready = undefined;
    const feeder = new AuditSinkFeeder(store, sinks, {
      ...(this.#options.feedIntervalMs ? { intervalMs: this.#options.feedIntervalMs } : {}),
    });
    const run = { election: AUDIT_ELECTION, term, holder: this.#options.replicaId };
    const checkpointer = new AuditCheckpointer(store, signer, {
      ...(this.#options.checkpointIntervalMs ? { intervalMs: this.#options.checkpointIntervalMs } : {}),
      claim: (checkpoint) => claimFencedStep(this.#options.pool, run, `checkpoint ${checkpoint.index}`),
    });
    try {
      await feeder.start();
    } catch (error) {
      await feeder.close(0, false);
      throw error;
    }
    checkpointer.start();
    this.#current = { term, feeder, checkpointer };
    log.info({ term, from: feeder.cursor }, 'feeding the audit sinks and signing checkpoints');
  }

  /** Ends `term`: a last checkpoint and a last read only when stepping down on purpose (`final`), then the sinks' flush. */
  async #end(term: number, final: boolean): Promise<void> {
    const current = this.#current;
    if (!current || current.term !== term) return;
    this.#current = undefined;
    await current.checkpointer
      .stop(final)
      .catch((error: Error) => log.warn({ term, error: error.message }, 'last audit checkpoint not written'));
    await current.feeder.close(SINK_CLOSE_DEADLINE_MS, final);
    log.info({ term, upto: current.feeder.cursor }, 'stopped feeding the audit sinks');
  }
}

function leaderSinks(options: AuditLeaderOptions): Promise<AuditSinks> {
  return createSinks(options.sinks, {
    dataDir: options.dataDir,
    ...(options.env ? { env: options.env } : {}),
    onSystemEvent: (event) => {
      options
        .audit(event)
        .catch((error: Error) => log.warn({ error: error.message }, 'recording an audit sink event failed'));
    },
  });
}
