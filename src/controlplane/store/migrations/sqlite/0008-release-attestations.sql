-- What each workspace's supervisor last attested it enforces (docs/releases.md, `bundle_attest`):
-- kept in the store, so `paddock up` and `paddock serve` (whichever replica a supervisor is
-- connected to) record it the same way and `paddock policy status` shows every workspace's
-- drift. One row per workspace, replaced on each attestation; the workspace id is the one the
-- channel connection authenticated, never one the supervisor names. `attestation` is the
-- message as received (validated against the channel protocol before it is stored, and again
-- when read).
CREATE TABLE release_attestations (
  workspace_id TEXT PRIMARY KEY NOT NULL CHECK (workspace_id <> ''),
  channel      TEXT NOT NULL CHECK (channel <> ''),
  attestation  TEXT NOT NULL,
  received_at  INTEGER NOT NULL
) STRICT;
