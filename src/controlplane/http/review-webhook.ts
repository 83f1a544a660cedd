import { createLogger } from '../../core/log.ts';
import type { ReviewRequestRecord, Store } from '../store/store.ts';

// The optional outgoing webhook on each new review request (Slack-compatible: `{text, blocks}`).
// It never blocks or fails the held call: the notice is queued, sent in the background with a
// timeout, and retried with backoff; a notice that still fails is logged and dropped. It names
// who, what and where, and links the console, but carries no arguments (they may be secret).

const log = createLogger('review-webhook');

export interface ReviewWebhookOptions {
  /** Where to POST; from the environment variable `spec.reviews.webhook.urlEnv` names. */
  readonly url: string;
  /** The console's origin, for the link. */
  readonly publicOrigin: string;
  /** Attempts per notice. Default 4 (one try and three retries). */
  readonly attempts?: number;
  /** Delay before the first retry, doubled after each. Default 1000 ms. */
  readonly retryDelayMs?: number;
  /** Per attempt. Default 5000 ms. */
  readonly timeoutMs?: number;
}

export interface ReviewWebhook {
  /** Queues a notice; returns at once. */
  notify(record: ReviewRequestRecord): void;
  /** Resolves once every queued notice was sent or given up (tests, shutdown). */
  idle(): Promise<void>;
}

/** The Slack-compatible message for a new request. */
export function reviewMessage(
  record: ReviewRequestRecord,
  publicOrigin: string,
): { text: string; blocks: unknown[] } {
  const link = `${publicOrigin}/reviews/${encodeURIComponent(record.id)}`;
  const text =
    `Review requested: ${record.requester} wants ${record.tool} in workspace ${record.workspaceId} ` +
    `(blueprint ${record.blueprint}); ${record.minApprovals} approval(s) from ${record.reviewers.join(', ')} ` +
    `before ${new Date(record.expiresAt).toISOString()}. ${link}`;
  return {
    text,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `*Review requested* by ${record.requester}: \`${record.tool}\`` },
      },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `workspace ${record.workspaceId} · blueprint ${record.blueprint} · ${record.id}`,
          },
        ],
      },
      { type: 'section', text: { type: 'mrkdwn', text: `<${link}|Open in the Paddock console>` } },
    ],
  };
}

export function createReviewWebhook(options: ReviewWebhookOptions): ReviewWebhook {
  const attempts = Math.max(1, options.attempts ?? 4);
  const firstDelay = options.retryDelayMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const inFlight = new Set<Promise<void>>();

  async function send(record: ReviewRequestRecord): Promise<void> {
    const body = JSON.stringify(reviewMessage(record, options.publicOrigin));
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const response = await fetch(options.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
        await response.body?.cancel();
        if (response.ok) return;
        log.warn(
          { review: record.id, status: response.status, attempt },
          'review webhook refused the notice',
        );
      } catch (error) {
        log.warn({ review: record.id, error: (error as Error).message, attempt }, 'review webhook failed');
      }
      if (attempt < attempts)
        await new Promise((resolve) => setTimeout(resolve, firstDelay * 2 ** (attempt - 1)));
    }
    log.error({ review: record.id, attempts }, 'review webhook gave up on the notice');
  }

  return {
    notify(record) {
      const sending = send(record).finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    },
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

/** The store, with `onCreated` told of every review request it creates (after it is stored). */
export function notifyingStore(store: Store, onCreated: (record: ReviewRequestRecord) => void): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'createReviewRequest') {
        return async (...args: Parameters<Store['createReviewRequest']>) => {
          const record = await target.createReviewRequest(...args);
          onCreated(record);
          return record;
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
