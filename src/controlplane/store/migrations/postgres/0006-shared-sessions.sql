-- Sessions and channel identities shared by every control-plane replica (and kept across a
-- restart). A session carries what re-checks its user with the IdP: the refresh token, sealed
-- with AES-256-GCM under the control plane's session key and bound to the session's id (never
-- stored in the clear), the client kind it was issued to, and the user as the IdP last
-- described them. refresh_version makes a refresh a claim: a replica bumps it to an odd value
-- (and pushes next_refresh_at out by a lease) only if it is still what it read and no unexpired
-- claim holds, and back to even when done, so one replica refreshes a session at a time. ended_reason is set by whoever ended the session, once: that replica
-- audits it, the others only notice.

ALTER TABLE sessions ADD COLUMN client_kind TEXT CHECK (client_kind IN ('web', 'cli'));
ALTER TABLE sessions ADD COLUMN idp_user TEXT;
ALTER TABLE sessions ADD COLUMN refresh_sealed TEXT;
ALTER TABLE sessions ADD COLUMN next_refresh_at BIGINT;
ALTER TABLE sessions ADD COLUMN refresh_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN ended_reason TEXT;
CREATE INDEX sessions_refresh_due ON sessions (next_refresh_at) WHERE revoked_at IS NULL;

-- Workspace channel identities: public keys only. A key is active until a rotation replaces it
-- (rotated) or the workspace is revoked (revoked); only an active key authenticates.
CREATE TABLE channel_identities (
  kid            TEXT PRIMARY KEY CHECK (kid <> ''),
  workspace_id   TEXT NOT NULL CHECK (workspace_id <> ''),
  public_key_pem TEXT NOT NULL CHECK (public_key_pem <> ''),
  status         TEXT NOT NULL CHECK (status IN ('active', 'rotated', 'revoked')),
  issued_at      BIGINT NOT NULL,
  retired_at     BIGINT
);
CREATE INDEX channel_identities_workspace ON channel_identities (workspace_id);
-- At most one active key per workspace.
CREATE UNIQUE INDEX channel_identities_one_active ON channel_identities (workspace_id) WHERE status = 'active';

-- A revoked workspace gets no identity, ever (even after its keys are forgotten).
CREATE TABLE channel_revoked_workspaces (
  workspace_id TEXT PRIMARY KEY CHECK (workspace_id <> ''),
  revoked_at   BIGINT NOT NULL
);
