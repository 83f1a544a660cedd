// The reviewer inbox: pending requests, refreshed every few seconds.
import { request } from '../api.ts';
import { ErrorBanner } from '../components/error-banner.tsx';
import { formatTime, shorten } from '../format.ts';
import { Link } from '../router.tsx';
import type { ReviewListItem } from '../types.ts';
import { usePoll } from '../use-poll.ts';

export const REVIEW_REFRESH_MS = 3000;

export function ReviewsPage() {
  const reviews = usePoll(
    () => request<{ reviews: ReviewListItem[] }>('/api/reviews?status=pending').then((body) => body.reviews),
    REVIEW_REFRESH_MS,
    'pending',
  );
  return (
    <main className="page" data-testid="reviews-page">
      <h1>Reviews</h1>
      <p className="muted">
        Held tool calls waiting for a decision. An approval lets exactly the shown call through once.
      </p>
      <ErrorBanner error={reviews.error} />
      {reviews.data === undefined && !reviews.error ? <p className="muted">Loading…</p> : null}
      {reviews.data?.length === 0 ? <p data-testid="reviews-empty">Nothing is waiting for review.</p> : null}
      {reviews.data && reviews.data.length > 0 ? (
        <table className="table" data-testid="reviews-table">
          <caption className="visually-hidden">Pending reviews</caption>
          <thead>
            <tr>
              <th scope="col">Tool</th>
              <th scope="col">Requester</th>
              <th scope="col">Workspace</th>
              <th scope="col">Approvals</th>
              <th scope="col">Requested</th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {reviews.data.map((review) => (
              <tr key={review.id} data-testid="review-row" data-id={review.id}>
                <td>
                  <Link to={`/reviews/${encodeURIComponent(review.id)}`} testId="review-open">
                    {review.tool}
                  </Link>
                  <div className="muted small">
                    {review.action}
                    {review.mine ? ' · your request' : ''}
                    {review.canAnswer === false && !review.mine ? ' · not yours to answer' : ''}
                  </div>
                </td>
                <td>{review.requester}</td>
                <td>
                  <code title={review.workspaceId}>{shorten(review.workspaceId)}</code>
                </td>
                <td>
                  {review.approvals.length} of {review.minApprovals}
                </td>
                <td>{formatTime(review.createdAt)}</td>
                <td>{formatTime(review.expiresAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </main>
  );
}
