-- Signed policy releases on a cluster (docs/releases.md): the TUF repository of each channel is
-- kept here, not on a replica's disk, so every replica serves the same files to the supervisors
-- connected to it. Supervisors verify every file against the root they pin: these rows are
-- untrusted storage (a changed row is refused by the verifier, never trusted). Only the
-- reconciler's leader writes, in a transaction fenced by its term. (`paddock up` keeps its
-- repository under DATA_DIR/releases; the table exists here so both schemas stay alike.)

-- A channel's metadata files: root/N.json, timestamp.json, N.snapshot.json, N.targets.json and
-- pending.targets.json (a release waiting for signatures), as the repository names them.
CREATE TABLE release_metadata (
  channel    TEXT NOT NULL CHECK (channel <> ''),
  path       TEXT NOT NULL CHECK (path <> ''),
  sha256     TEXT NOT NULL CHECK (length(sha256) = 64),
  content    BLOB NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (channel, path)
) STRICT;

-- Bundles, stored once by the SHA-256 of their bytes; every channel's targets point at them.
CREATE TABLE release_blobs (
  sha256     TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64),
  content    BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
