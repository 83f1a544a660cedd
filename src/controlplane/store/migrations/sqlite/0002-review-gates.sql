-- Review gates: what a held call is bound to and what its gate was when it was held, so a
-- decision never depends on a blueprint that changed since. An approval is single-use
-- (consumed_at) and unlocks only a call of the same workspace, session and argument digest.
-- Requests made before this migration have no session and no reviewers: nobody can approve
-- them and no call can use them; only their timeout decides.

ALTER TABLE review_requests ADD COLUMN session_id TEXT;
ALTER TABLE review_requests ADD COLUMN harness TEXT;
ALTER TABLE review_requests ADD COLUMN action TEXT NOT NULL DEFAULT '';
ALTER TABLE review_requests ADD COLUMN resource TEXT NOT NULL DEFAULT '';
ALTER TABLE review_requests ADD COLUMN rule_ids TEXT NOT NULL DEFAULT '[]'
  CHECK (json_valid(rule_ids) AND json_type(rule_ids) = 'array');
ALTER TABLE review_requests ADD COLUMN reviewers TEXT NOT NULL DEFAULT '[]'
  CHECK (json_valid(reviewers) AND json_type(reviewers) = 'array');
ALTER TABLE review_requests ADD COLUMN min_approvals INTEGER NOT NULL DEFAULT 1
  CHECK (min_approvals BETWEEN 1 AND 10);
ALTER TABLE review_requests ADD COLUMN on_timeout TEXT NOT NULL DEFAULT 'deny'
  CHECK (on_timeout IN ('deny', 'allow'));
ALTER TABLE review_requests ADD COLUMN bundle_id TEXT NOT NULL DEFAULT '';
ALTER TABLE review_requests ADD COLUMN bundle_version TEXT NOT NULL DEFAULT '';
ALTER TABLE review_requests ADD COLUMN decision_reason TEXT;
ALTER TABLE review_requests ADD COLUMN timed_out INTEGER NOT NULL DEFAULT 0 CHECK (timed_out IN (0, 1));
-- Only an approval can be used, and only once: the consume statement sets it where it is NULL.
ALTER TABLE review_requests ADD COLUMN consumed_at INTEGER CHECK (consumed_at IS NULL OR status = 'approved');

-- One pending request per held call: an agent retrying while it waits joins the same request,
-- even when two retries race.
CREATE UNIQUE INDEX review_requests_one_pending ON review_requests (workspace_id, session_id, argument_digest)
  WHERE status = 'pending';
CREATE INDEX review_requests_binding ON review_requests (workspace_id, session_id, argument_digest, created_at);
