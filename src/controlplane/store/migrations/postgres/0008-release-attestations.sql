-- What each workspace's supervisor last attested it enforces (docs/releases.md, `bundle_attest`):
-- kept in the store, not in a replica's scratch directory, so whichever replica a supervisor is
-- connected to records it and `paddock policy status` shows every workspace's drift. One row
-- per workspace, replaced on each attestation; the workspace id is the one the channel
-- connection authenticated, never one the supervisor names. `attestation` is the message as
-- received (validated against the channel protocol before it is stored, and again when read).
CREATE TABLE release_attestations (
  workspace_id TEXT PRIMARY KEY CHECK (workspace_id <> ''),
  channel      TEXT NOT NULL CHECK (channel <> ''),
  attestation  TEXT NOT NULL,
  received_at  BIGINT NOT NULL
);
