import type { ReviewStatusName, ReviewView } from '../policy/index.ts';
import type { ReviewSocketClient } from '../supervisor/index.ts';
import { callControlPlane } from './control-plane-api.ts';
import type { ClientSession } from './saved-session.ts';

// `paddock review` against the control plane's review API (docs/api.md): the same operations
// as a run's review socket, answered as the signed-in user (the token's), never as an asserted
// one. The API adds what the console needs (`mine`, `canAnswer`) to each request; they are
// dropped here so the output is the socket mode's, field for field.

type ApiReview = ReviewView & { mine?: unknown; canAnswer?: unknown };

/** The request as the socket mode prints it. */
function asView(review: ApiReview): ReviewView {
  const { mine: _mine, canAnswer: _canAnswer, ...view } = review;
  return view;
}

const reviewPath = (id: string) => `/api/reviews/${encodeURIComponent(id)}`;

/** @example await controlPlaneReviewClient({ server, token }).list({ status: 'pending' }) */
export function controlPlaneReviewClient(session: ClientSession): ReviewSocketClient {
  const call = (path: string, init: { method?: string; body?: unknown } = {}) =>
    callControlPlane(session.server, path, { ...init, token: session.token });
  return {
    async list(filter: { readonly status?: ReviewStatusName } = {}) {
      const query = filter.status ? `?status=${encodeURIComponent(filter.status)}` : '';
      const { reviews } = (await call(`/api/reviews${query}`)) as { reviews: ApiReview[] };
      return reviews.map(asView);
    },
    async show(id) {
      const { review } = (await call(reviewPath(id))) as { review: ApiReview };
      return asView(review);
    },
    async answer(verdict, id, answer) {
      const { review } = (await call(`${reviewPath(id)}/${verdict}`, {
        method: 'POST',
        body: { reason: answer.reason },
      })) as { review: ApiReview };
      return asView(review);
    },
  };
}
