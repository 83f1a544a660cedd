-- The GitOps reconciler: each apply is recorded with its commit, its plan and who approved it
-- before any step runs, and each step is marked done in the same transaction as what it
-- leaves behind (a mark), so an apply interrupted by a crash resumes at the first step not
-- done. Marks remember what the store's workspaces were built from (the profile's digest and
-- image) and which bundle content each blueprint was last released with.

CREATE TABLE reconcile_applies (
  id          TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  commit_sha  TEXT NOT NULL CHECK (commit_sha <> ''),
  plan        TEXT NOT NULL CHECK (json_valid(plan)),
  approved_by TEXT NOT NULL CHECK (approved_by <> ''),
  status      TEXT NOT NULL CHECK (status IN ('open', 'done')),
  created_at  INTEGER NOT NULL,
  finished_at INTEGER
) STRICT;
-- At most one apply is in progress: a second one waits for it to finish (or resumes it).
CREATE UNIQUE INDEX reconcile_applies_one_open ON reconcile_applies (status) WHERE status = 'open';

CREATE TABLE reconcile_steps (
  apply_id TEXT NOT NULL REFERENCES reconcile_applies (id) ON DELETE CASCADE,
  idx      INTEGER NOT NULL CHECK (idx >= 0),
  done_at  INTEGER NOT NULL,
  PRIMARY KEY (apply_id, idx)
) STRICT;

CREATE TABLE reconcile_marks (
  kind       TEXT NOT NULL CHECK (kind IN ('workspace', 'bundle')),
  name       TEXT NOT NULL CHECK (name <> ''),
  hash       TEXT NOT NULL,
  detail     TEXT NOT NULL DEFAULT '',
  commit_sha TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (kind, name)
) STRICT;
