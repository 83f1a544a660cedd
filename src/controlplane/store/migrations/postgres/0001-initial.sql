-- Paddock control plane, initial schema (PostgreSQL). Timestamps are milliseconds since
-- the epoch (BIGINT), as on SQLite, so both backends return the same values.
-- JSON written by agents (review arguments, audit events) is TEXT, not JSONB: JSONB
-- rejects NUL and lone surrogates and rewrites key order, and an audit event must come
-- back as the bytes its hash covers. Operator data (groups) is JSONB.

CREATE TABLE users (
  id           TEXT PRIMARY KEY CHECK (id <> ''),
  display_name TEXT NOT NULL,
  groups       JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(groups) = 'array'),
  disabled     BOOLEAN NOT NULL DEFAULT false,
  created_at   BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL
);

CREATE TABLE workspaces (
  id            TEXT PRIMARY KEY CHECK (id <> ''),
  owner         TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  profile       TEXT NOT NULL,
  provider      TEXT NOT NULL,
  state         TEXT NOT NULL CHECK (state <> ''),
  state_version BIGINT NOT NULL CHECK (state_version >= 1),
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);
CREATE INDEX workspaces_owner ON workspaces (owner);

CREATE TABLE sessions (
  id           TEXT PRIMARY KEY CHECK (id <> ''),
  user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at   BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL CHECK (expires_at > created_at),
  last_seen_at BIGINT NOT NULL,
  revoked_at   BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id, expires_at);

CREATE TABLE review_requests (
  id              TEXT PRIMARY KEY CHECK (id <> ''),
  requester       TEXT NOT NULL,
  workspace_id    TEXT NOT NULL REFERENCES workspaces (id) ON DELETE RESTRICT,
  blueprint       TEXT NOT NULL,
  tool            TEXT NOT NULL,
  arguments       TEXT NOT NULL,
  argument_digest TEXT NOT NULL CHECK (argument_digest <> ''),
  status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'cancelled')),
  created_at      BIGINT NOT NULL,
  expires_at      BIGINT NOT NULL,
  decided_at      BIGINT,
  decided_by      TEXT,
  CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX review_requests_status ON review_requests (status, created_at);
CREATE INDEX review_requests_workspace ON review_requests (workspace_id, created_at);

-- One row per reviewer and request: the primary key is the distinct-reviewer rule.
CREATE TABLE review_approvals (
  request_id TEXT NOT NULL REFERENCES review_requests (id) ON DELETE CASCADE,
  reviewer   TEXT NOT NULL CHECK (reviewer <> ''),
  comment    TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (request_id, reviewer)
);

CREATE TABLE audit_events (
  source      TEXT NOT NULL CHECK (source <> ''),
  seq         BIGINT NOT NULL CHECK (seq >= 1),
  uid         TEXT NOT NULL UNIQUE,
  class_uid   INTEGER NOT NULL,
  time        BIGINT NOT NULL,
  event       TEXT NOT NULL,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (source, seq)
);
CREATE INDEX audit_events_time ON audit_events (time);
