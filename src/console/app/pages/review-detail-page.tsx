// One review request: exactly what would run (redacted arguments), why it was held (the rule),
// what an approval unlocks (the digest), and approve/deny with a required reason.
import { type FormEvent, useState } from 'react';
import { type ApiError, request } from '../api.ts';
import { ErrorBanner } from '../components/error-banner.tsx';
import { StateBadge } from '../components/state-badge.tsx';
import { formatTime } from '../format.ts';
import { Link } from '../router.tsx';
import type { Me, ReviewView } from '../types.ts';
import { usePoll } from '../use-poll.ts';
import { sameUserId } from '../users.ts';
import { REVIEW_REFRESH_MS } from './reviews-page.tsx';

type Verdict = 'approve' | 'deny';

export function ReviewDetailPage({ id, me }: { readonly id: string; readonly me: Me }) {
  const review = usePoll(
    () =>
      request<{ review: ReviewView }>(`/api/reviews/${encodeURIComponent(id)}`).then((body) => body.review),
    REVIEW_REFRESH_MS,
    id,
  );
  return (
    <main className="page" data-testid="review-detail-page">
      <p>
        <Link to="/reviews" testId="reviews-back">
          ← All pending reviews
        </Link>
      </p>
      <ErrorBanner error={review.error} />
      {review.data ? (
        <ReviewDetail
          review={review.data}
          requestedByMe={sameUserId(review.data.requester, me.user.id)}
          onAnswered={review.reload}
        />
      ) : null}
    </main>
  );
}

interface ReviewDetailProps {
  readonly review: ReviewView;
  readonly requestedByMe: boolean;
  readonly onAnswered: () => Promise<void>;
}

function ReviewDetail({ review, requestedByMe, onAnswered }: ReviewDetailProps) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState<Verdict>();
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState<string>();
  const [missingReason, setMissingReason] = useState(false);

  const answer = async (verdict: Verdict) => {
    const trimmed = reason.trim();
    if (!trimmed) {
      setMissingReason(true);
      return;
    }
    setMissingReason(false);
    setBusy(verdict);
    setError(undefined);
    try {
      const updated = await request<ReviewView>(`/api/reviews/${encodeURIComponent(review.id)}/${verdict}`, {
        method: 'POST',
        body: { reason: trimmed },
      });
      setDone(
        verdict === 'approve'
          ? `Approved. The request is now ${updated.status}.`
          : `Denied. The request is now ${updated.status}.`,
      );
      setReason('');
      await onAnswered();
    } catch (cause) {
      setError(cause as ApiError);
    } finally {
      setBusy(undefined);
    }
  };
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    void answer('approve');
  };
  const pending = review.status === 'pending';

  return (
    <>
      <div className="title-row">
        <h1>
          Review: <span data-testid="review-tool">{review.tool}</span>
        </h1>
        <StateBadge state={review.status} testId="review-status" />
      </div>
      <section className="panel" aria-labelledby="request-heading">
        <h2 id="request-heading">The request</h2>
        <dl className="facts">
          <dt>Requester</dt>
          <dd data-testid="review-requester">{review.requester}</dd>
          <dt>Workspace</dt>
          <dd>{review.workspaceId}</dd>
          <dt>Blueprint</dt>
          <dd>{review.blueprint}</dd>
          {review.harness ? (
            <>
              <dt>Agent</dt>
              <dd>{review.harness}</dd>
            </>
          ) : null}
          <dt>Action</dt>
          <dd>
            <code data-testid="review-action">{review.action}</code>
          </dd>
          <dt>Resource</dt>
          <dd>
            <code data-testid="review-resource">{review.resource}</code>
          </dd>
          <dt>Held by</dt>
          <dd data-testid="review-rule">
            {review.ruleIds.map((rule) => (
              <code key={rule} className="chip">
                {rule}
              </code>
            ))}
          </dd>
          <dt>Digest</dt>
          <dd>
            <code data-testid="review-digest" className="break">
              {review.digest}
            </code>
          </dd>
          <dt>Approvals</dt>
          <dd data-testid="review-approvals-count">
            {review.approvals.length} of {review.minApprovals} needed
          </dd>
          <dt>Requested</dt>
          <dd>{formatTime(review.createdAt)}</dd>
          <dt>Expires</dt>
          <dd>
            {formatTime(review.expiresAt)} (then {review.onTimeout === 'allow' ? 'allowed' : 'denied'})
          </dd>
        </dl>
        <h3>Arguments</h3>
        {review.arguments === null || review.arguments === undefined ? (
          <p className="muted" data-testid="review-arguments">
            Not recorded (the blueprint's logging keeps no tool arguments).
          </p>
        ) : (
          <pre className="code-block" data-testid="review-arguments">
            {JSON.stringify(review.arguments, null, 2)}
          </pre>
        )}
        <p className="muted small">
          Shown as the blueprint's logging redacts them. The digest covers the exact action, resource and
          arguments: an approval unlocks only this call.
        </p>
      </section>
      {review.approvals.length > 0 ? (
        <section className="panel" aria-labelledby="approvals-heading">
          <h2 id="approvals-heading">Approvals so far</h2>
          <ul className="plain-list" data-testid="review-approvals">
            {review.approvals.map((approval) => (
              <li key={`${approval.reviewer}-${approval.at}`}>
                <strong>{approval.reviewer}</strong> at {formatTime(approval.at)}
                {approval.reason ? `: ${approval.reason}` : ''}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {review.decidedAt ? (
        <p data-testid="review-decision">
          Decided {formatTime(review.decidedAt)}
          {review.decidedBy ? ` by ${review.decidedBy}` : ''}
          {review.decisionReason ? `: ${review.decisionReason}` : ''}
        </p>
      ) : null}
      {done ? (
        <p className="notice" role="status" data-testid="review-result">
          {done}
        </p>
      ) : null}
      <ErrorBanner error={error} />
      {pending && requestedByMe ? (
        <p className="notice" data-testid="review-own-request">
          You requested this call, so someone else must answer it.
        </p>
      ) : null}
      {pending && !requestedByMe ? (
        <form className="panel" onSubmit={onSubmit} aria-labelledby="answer-heading" noValidate>
          <h2 id="answer-heading">Your decision</h2>
          <label htmlFor="review-reason">Reason (recorded in the audit trail)</label>
          <textarea
            id="review-reason"
            value={reason}
            onChange={(event) => {
              setReason(event.target.value);
              if (event.target.value.trim()) setMissingReason(false);
            }}
            maxLength={1000}
            rows={3}
            required
            aria-invalid={missingReason}
            aria-describedby={missingReason ? 'reason-missing' : undefined}
            data-testid="review-reason"
          />
          {missingReason ? (
            <p id="reason-missing" className="error-text" data-testid="reason-missing">
              Give a reason first.
            </p>
          ) : null}
          <div className="button-row">
            <button
              type="submit"
              className="button"
              disabled={busy !== undefined}
              data-testid="review-approve"
            >
              {busy === 'approve' ? 'Approving…' : 'Approve'}
            </button>
            <button
              type="button"
              className="button danger"
              disabled={busy !== undefined}
              onClick={() => answer('deny')}
              data-testid="review-deny"
            >
              {busy === 'deny' ? 'Denying…' : 'Deny'}
            </button>
          </div>
        </form>
      ) : null}
    </>
  );
}
