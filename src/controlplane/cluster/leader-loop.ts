import { isPaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { LeaderElection } from './leader-election.ts';

// Work only the leader does (the reconciler's pass, timeout sweeps): `run(term)` every interval
// while this replica leads, never two runs at once. `run` should write through runFenced with
// the term it is given, so a run that outlives its term writes nothing.

const log = createLogger('cluster');

export interface LeaderLoopOptions {
  readonly election: LeaderElection;
  /** Pause between runs, in ms. At least 10. */
  readonly intervalMs: number;
  readonly run: (term: number) => Promise<void>;
}

export class LeaderLoop {
  readonly #options: LeaderLoopOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(options: LeaderLoopOptions) {
    this.#options = options;
  }

  start(): void {
    this.stop();
    this.#timer = setInterval(() => this.#tick(), Math.max(10, this.#options.intervalMs));
  }

  /** Stops scheduling; resolves when a run in progress has ended. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #tick(): void {
    const term = this.#options.election.term;
    if (term === undefined || this.#running) return;
    this.#running = this.#options
      .run(term)
      .catch((error: unknown) => {
        // A deposed leader's run is refused by fencing: expected, not a fault.
        if (isPaddockError(error, 'PDK_CLUSTER_NOT_LEADER')) log.info({ term }, 'leader run fenced off');
        else log.error({ term, error: (error as Error).message }, 'leader run failed');
      })
      .finally(() => {
        this.#running = undefined;
      });
  }
}
