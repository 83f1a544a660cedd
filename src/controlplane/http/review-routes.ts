import { isPaddockError, PaddockError } from '../../core/errors.ts';
import { matchReviewer, type ReviewStatusName, type ReviewView, sameUser } from '../../policy/index.ts';
import type { Principal } from '../identity/principal.ts';
import type { RouteDeps } from './deps.ts';
import type { Route } from './route-table.ts';

// The reviewer inbox over HTTP, on the control plane's ReviewQueue. A review is visible to the
// reviewers its gate names, to its requester and to administrators; anyone else gets 404 (its
// existence is not theirs to know). Who may answer is the queue's rule (checkReviewer: never the
// requester; refusals are audited), so approve/deny only need a signed-in user here.

const STATUSES: readonly ReviewStatusName[] = ['pending', 'approved', 'denied', 'expired', 'cancelled'];

function visibleTo(view: ReviewView, me: Principal): boolean {
  return (
    me.admin ||
    sameUser(view.requester, me.userId) ||
    matchReviewer({ id: me.userId, groups: me.groups }, view.reviewers) !== undefined
  );
}

function principalOf(principal: Principal | undefined): Principal {
  if (!principal) throw new PaddockError('PDK_AUTH_REQUIRED');
  return principal;
}

async function reasonOf(body: () => Promise<unknown>): Promise<string> {
  const input = (await body()) as { reason?: unknown } | null;
  if (typeof input?.reason !== 'string')
    throw new PaddockError('PDK_REVIEW_INVALID', 'send {"reason": "..."} with the answer');
  return input.reason;
}

export function reviewRoutes(deps: RouteDeps): Route[] {
  const notFound = (id: string) => new PaddockError('PDK_REVIEW_NOT_FOUND', `review request ${id} not found`);
  const visible = async (id: string, me: Principal) => {
    const view = await deps.reviews.show(id);
    if (!visibleTo(view, me)) throw notFound(id);
    return view;
  };
  const answer = (verdict: 'approve' | 'deny'): Route => ({
    method: 'POST',
    path: `/api/reviews/:reviewId/${verdict}`,
    access: 'user',
    async handler({ principal, params, body }) {
      const me = principalOf(principal);
      const id = params['reviewId'] as string;
      const reason = await reasonOf(body);
      const seen = await visible(id, me).then(
        () => true,
        (error) => {
          if (isPaddockError(error, 'PDK_REVIEW_NOT_FOUND') && error.message === notFound(id).message)
            return false;
          throw error;
        },
      );
      const reviewer = { id: me.userId, name: me.displayName, groups: me.groups };
      try {
        const view =
          verdict === 'approve'
            ? await deps.reviews.approve(id, reviewer, reason)
            : await deps.reviews.deny(id, reviewer, reason);
        return { json: { review: view } };
      } catch (error) {
        // The queue refused (and audited) an answer from someone the request is hidden from;
        // they learn no more than that it does not exist for them.
        if (!seen && isPaddockError(error, 'PDK_REVIEW_NOT_REVIEWER')) throw notFound(id);
        throw error;
      }
    },
  });
  return [
    {
      method: 'GET',
      path: '/api/reviews',
      access: 'user',
      async handler({ principal, url }) {
        const me = principalOf(principal);
        const status = url.searchParams.get('status');
        if (status !== null && !STATUSES.includes(status as ReviewStatusName))
          throw new PaddockError('PDK_HTTP_BAD_REQUEST', `status must be one of ${STATUSES.join(', ')}`);
        const views = await deps.reviews.list({
          status: (status ?? undefined) as ReviewStatusName | undefined,
          limit: 1000,
        });
        return {
          json: {
            reviews: views
              .filter((view) => visibleTo(view, me))
              .map((view) => ({
                ...view,
                mine: sameUser(view.requester, me.userId),
                canAnswer:
                  view.status === 'pending' &&
                  !sameUser(view.requester, me.userId) &&
                  matchReviewer({ id: me.userId, groups: me.groups }, view.reviewers) !== undefined,
              })),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/reviews/:reviewId',
      access: 'user',
      async handler({ principal, params }) {
        return { json: { review: await visible(params['reviewId'] as string, principalOf(principal)) } };
      },
    },
    answer('approve'),
    answer('deny'),
  ];
}
