-- Review gates: what a held call is bound to and what its gate was when it was held, so a
-- decision never depends on a blueprint that changed since. An approval is single-use
-- (consumed_at) and unlocks only a call of the same workspace, session and argument digest.
-- Requests made before this migration have no session and no reviewers: nobody can approve
-- them and no call can use them; only their timeout decides. Gate data (rule ids, reviewers)
-- is operator data, so JSONB, like users.groups.

ALTER TABLE review_requests
  ADD COLUMN session_id      TEXT,
  ADD COLUMN harness         TEXT,
  ADD COLUMN action          TEXT NOT NULL DEFAULT '',
  ADD COLUMN resource        TEXT NOT NULL DEFAULT '',
  ADD COLUMN rule_ids        JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(rule_ids) = 'array'),
  ADD COLUMN reviewers       JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(reviewers) = 'array'),
  ADD COLUMN min_approvals   INTEGER NOT NULL DEFAULT 1 CHECK (min_approvals BETWEEN 1 AND 10),
  ADD COLUMN on_timeout      TEXT NOT NULL DEFAULT 'deny' CHECK (on_timeout IN ('deny', 'allow')),
  ADD COLUMN bundle_id       TEXT NOT NULL DEFAULT '',
  ADD COLUMN bundle_version  TEXT NOT NULL DEFAULT '',
  ADD COLUMN decision_reason TEXT,
  ADD COLUMN timed_out       BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN consumed_at     BIGINT,
  -- Only an approval can be used, and only once: the consume statement sets it where it is NULL.
  ADD CONSTRAINT review_requests_consumed_approved CHECK (consumed_at IS NULL OR status = 'approved');

-- One pending request per held call: an agent retrying while it waits joins the same request,
-- even when two retries race.
CREATE UNIQUE INDEX review_requests_one_pending ON review_requests (workspace_id, session_id, argument_digest)
  WHERE status = 'pending';
CREATE INDEX review_requests_binding ON review_requests (workspace_id, session_id, argument_digest, created_at);
