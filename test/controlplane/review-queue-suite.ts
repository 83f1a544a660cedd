import { afterEach, beforeEach, describe } from 'node:test';
import { openStore, ReviewQueue, type Store } from '../../src/controlplane/index.ts';
import { describeReviewQueueFlows } from './review-queue-flows.ts';
import { describeReviewQueueRaces } from './review-queue-races.ts';
import { type Captured, captureAudit } from './review-queue-fixtures.ts';
import type { StoreBackend, TestClock } from './store-suite.ts';

// The review queue over a real store, run against both backends by review-queue.test.ts. Every
// audit event it emits is checked against OCSF 1.8.0 as it is appended.

export interface QueueContext {
  readonly clock: TestClock;
  store: Store;
  queue: ReviewQueue;
  audit: Captured;
  /** Another queue over another store on the same database (a second replica), sharing the audit sink. */
  replica(): Promise<ReviewQueue>;
}

const START = Date.UTC(2025, 0, 1);

export function describeReviewQueue(name: string, backend: StoreBackend): void {
  describe(`review queue (${name})`, () => {
    const stores: Store[] = [];
    let url = '';
    const ctx: QueueContext = {
      clock: { t: START, now: () => ctx.clock.t },
      store: undefined as unknown as Store,
      queue: undefined as unknown as ReviewQueue,
      audit: captureAudit(),
      replica: async () => {
        const store = await openStore({ url, clock: ctx.clock });
        stores.push(store);
        return new ReviewQueue({ store, clock: ctx.clock, audit: ctx.audit.audit });
      },
    };

    beforeEach(async () => {
      ctx.clock.t = START;
      url = await backend.freshUrl();
      ctx.store = await openStore({ url, clock: ctx.clock });
      stores.push(ctx.store);
      ctx.audit = captureAudit();
      ctx.queue = new ReviewQueue({ store: ctx.store, clock: ctx.clock, audit: ctx.audit.audit });
      await ctx.store.createUser({ id: 'ada@example.com', displayName: 'Ada' });
      await ctx.store.createWorkspace({
        id: 'ws-ada',
        owner: 'ada@example.com',
        profile: 'p',
        provider: 'local',
        state: 'running',
      });
    });

    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
    });

    describeReviewQueueFlows(ctx);
    describeReviewQueueRaces(ctx);
  });
}
