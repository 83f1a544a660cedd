-- Paddock control plane, initial schema (SQLite). Timestamps are milliseconds since the
-- epoch, as on PostgreSQL. STRICT tables keep SQLite from storing a value of the wrong
-- type; booleans are 0/1 and JSON is TEXT checked with json_valid.

CREATE TABLE users (
  id           TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  display_name TEXT NOT NULL,
  groups       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(groups) AND json_type(groups) = 'array'),
  disabled     INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE workspaces (
  id            TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  owner         TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  profile       TEXT NOT NULL,
  provider      TEXT NOT NULL,
  state         TEXT NOT NULL CHECK (state <> ''),
  state_version INTEGER NOT NULL CHECK (state_version >= 1),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX workspaces_owner ON workspaces (owner);

CREATE TABLE sessions (
  id           TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL CHECK (expires_at > created_at),
  last_seen_at INTEGER NOT NULL,
  revoked_at   INTEGER
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id, expires_at);

CREATE TABLE review_requests (
  id              TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
  requester       TEXT NOT NULL,
  workspace_id    TEXT NOT NULL REFERENCES workspaces (id) ON DELETE RESTRICT,
  blueprint       TEXT NOT NULL,
  tool            TEXT NOT NULL,
  arguments       TEXT NOT NULL CHECK (json_valid(arguments)),
  argument_digest TEXT NOT NULL CHECK (argument_digest <> ''),
  status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'cancelled')),
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  decided_at      INTEGER,
  decided_by      TEXT,
  CHECK ((status = 'pending') = (decided_at IS NULL))
) STRICT;
CREATE INDEX review_requests_status ON review_requests (status, created_at);
CREATE INDEX review_requests_workspace ON review_requests (workspace_id, created_at);

-- One row per reviewer and request: the primary key is the distinct-reviewer rule.
CREATE TABLE review_approvals (
  request_id TEXT NOT NULL REFERENCES review_requests (id) ON DELETE CASCADE,
  reviewer   TEXT NOT NULL CHECK (reviewer <> ''),
  comment    TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (request_id, reviewer)
) STRICT;

CREATE TABLE audit_events (
  source      TEXT NOT NULL CHECK (source <> ''),
  seq         INTEGER NOT NULL CHECK (seq >= 1),
  uid         TEXT NOT NULL UNIQUE,
  class_uid   INTEGER NOT NULL,
  time        INTEGER NOT NULL,
  event       TEXT NOT NULL CHECK (json_valid(event)),
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (source, seq)
) STRICT;
CREATE INDEX audit_events_time ON audit_events (time);
