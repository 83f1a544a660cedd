import type { OcsfEvent } from '../../audit/index.ts';
import {
  type HeldCallMessage,
  heldCallMessage,
  MAX_FRAME_BYTES,
  type SupervisorMessage,
} from '../../core/channel/index.ts';
import { PaddockError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { GateAnswer, HeldCall, ReviewGate } from '../../policy/index.ts';
import type { ReviewAnswerMessage } from './channel-client.ts';

// A workspace's review gate: held calls go to the control plane's review queue over the
// workspace channel, where reviewers see and answer them. The queue's steps come back with the
// answer and the enforcement point's own decision event for each is appended to the workspace's
// audit log here. No answer (not connected, the connection dropped, the timeout) rejects: every
// enforcement point refuses a call whose gate rejects (fail closed).

const log = createLogger('channel-review-gate');

/** How long a held call waits for the control plane's answer (the queue answers at once: pending or not). */
export const REVIEW_ANSWER_TIMEOUT_MS = 10_000;

export interface ChannelReviewGateOptions {
  /** Sends a request on the channel; false when the channel is not connected (ChannelClient.sendReviewRequest). */
  readonly send: (message: Extract<SupervisorMessage, { t: 'review_request' }>) => boolean;
  /** Appends one event to the workspace's audit log. */
  readonly audit: (event: OcsfEvent) => Promise<unknown>;
  /** Default REVIEW_ANSWER_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

interface Waiting {
  readonly call: HeldCall;
  readonly resolve: (answer: GateAnswer) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

function unavailable(call: HeldCall, why: string): PaddockError {
  return new PaddockError(
    'PDK_CHANNEL_REVIEW',
    `${call.action} ${call.resource} needs review, but ${why}: the call is refused; retry it once the workspace is connected`,
  );
}

/**
 * The held call as the channel carries it: only the fields the queue reads (the blueprint's
 * whole `logging` and gate objects carry more), the requester by id alone (the control plane
 * knows who people are), no decisionEvent (it runs here, on the answer's steps).
 */
function wireCall(call: HeldCall): Record<string, unknown> {
  const { gate, logging } = call;
  return {
    requester: { id: call.requester.id },
    workspaceId: call.workspaceId,
    sessionId: call.sessionId,
    ...(call.harness ? { harness: call.harness } : {}),
    blueprint: { name: call.blueprint.name, version: call.blueprint.version },
    bundle: { id: call.bundle.id, version: call.bundle.version },
    action: call.action,
    resource: call.resource,
    tool: call.tool,
    ...(call.arguments === undefined ? {} : { arguments: call.arguments }),
    ruleIds: call.ruleIds,
    gate: {
      reviewers: gate.reviewers,
      minApprovals: gate.minApprovals,
      timeout: gate.timeout,
      onTimeout: gate.onTimeout,
    },
    ...(logging ? { logging: { toolArguments: logging.toolArguments, redact: logging.redact } } : {}),
    ...(call.context ? { context: call.context } : {}),
  };
}

export class ChannelReviewGate implements ReviewGate {
  readonly #options: ChannelReviewGateOptions;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;

  constructor(options: ChannelReviewGateOptions) {
    this.#options = options;
  }

  request(call: HeldCall): Promise<GateAnswer> {
    const requestId = this.#nextId;
    this.#nextId = this.#nextId >= 0xffff_ffff ? 1 : this.#nextId + 1;
    // Checked here as the control plane will: a call it would refuse as a protocol violation
    // (too large, malformed) must not cost the workspace its channel.
    const data = heldCallMessage.safeParse(wireCall(call));
    if (!data.success)
      return Promise.reject(
        new PaddockError(
          'PDK_CHANNEL_REVIEW',
          `${call.action} needs review, but the call cannot be sent for review (${data.error.issues[0]?.path.join('.')}: ${data.error.issues[0]?.message}): the call is refused`,
        ),
      );
    const message = { t: 'review_request' as const, requestId, call: data.data satisfies HeldCallMessage };
    if (JSON.stringify(message).length > MAX_FRAME_BYTES)
      return Promise.reject(
        new PaddockError(
          'PDK_CHANNEL_REVIEW',
          `${call.action} needs review, but the call is too large to send for review: the call is refused`,
        ),
      );
    return new Promise<GateAnswer>((resolve, reject) => {
      const timeoutMs = this.#options.timeoutMs ?? REVIEW_ANSWER_TIMEOUT_MS;
      const timer = setTimeout(() => {
        this.#waiting.delete(requestId);
        reject(unavailable(call, `the control plane did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(requestId, { call, resolve, reject, timer });
      let sent = false;
      try {
        sent = this.#options.send(message);
      } catch (error) {
        log.warn({ error: (error as Error).message }, 'review request could not be sent');
      }
      if (!sent)
        this.#settle(requestId, (waiting) =>
          waiting.reject(unavailable(call, 'the control plane is not reachable')),
        );
    });
  }

  /** The channel client's onReviewAnswer. */
  onAnswer(message: ReviewAnswerMessage): void {
    this.#settle(message.requestId, (waiting) => {
      if (message.t === 'review_failed') {
        waiting.reject(
          new PaddockError('PDK_CHANNEL_REVIEW', `the control plane refused the review: ${message.message}`),
        );
        return;
      }
      const { answer } = message;
      // The enforcement point's own decision events, as the queue would have appended them.
      const events = message.steps.flatMap(
        (step) => waiting.call.decisionEvent?.({ ...step, correlationUid: answer.reviewId }) ?? [],
      );
      Promise.all(events.map((event) => this.#options.audit(event as OcsfEvent))).then(
        () => waiting.resolve(answer),
        (error: Error) => {
          log.error({ error: error.message }, 'review decision could not be audited');
          waiting.reject(
            new PaddockError(
              'PDK_CHANNEL_REVIEW',
              'the review decision could not be audited: the call is refused',
            ),
          );
        },
      );
    });
  }

  /** The channel client's onDisconnected: nothing in flight will be answered. */
  onDisconnected(): void {
    for (const id of [...this.#waiting.keys()])
      this.#settle(id, (waiting) =>
        waiting.reject(unavailable(waiting.call, 'the control plane connection was lost')),
      );
  }

  #settle(requestId: number, action: (waiting: Waiting) => void): void {
    const waiting = this.#waiting.get(requestId);
    if (!waiting) return; // late (after the timeout) or never asked: nothing waits
    this.#waiting.delete(requestId);
    clearTimeout(waiting.timer);
    action(waiting);
  }
}
