-- Audit pipeline: a global sequence over every source's chain (gseq, the rowid, so the
-- order costs no extra index), each source's chain head, and signed checkpoints. Event text
-- is stored in canonical JSON from here on, so verification can rebuild the hashed bytes
-- without parsing. Search columns are copied out of the event at ingest.

CREATE TABLE audit_events_v3 (
  gseq         INTEGER PRIMARY KEY NOT NULL CHECK (gseq >= 1),
  source       TEXT NOT NULL CHECK (source <> ''),
  seq          INTEGER NOT NULL CHECK (seq >= 1),
  uid          TEXT NOT NULL UNIQUE,
  class_uid    INTEGER NOT NULL,
  time         INTEGER NOT NULL,
  event        TEXT NOT NULL CHECK (json_valid(event)),
  prev_hash    TEXT NOT NULL,
  hash         TEXT NOT NULL,
  received_at  INTEGER NOT NULL,
  event_code   TEXT,
  workspace_id TEXT,
  actor_user   TEXT,
  decision     TEXT,
  UNIQUE (source, seq)
) STRICT;

INSERT INTO audit_events_v3
  SELECT row_number() OVER (ORDER BY received_at, source, seq), source, seq, uid, class_uid, time, event,
         prev_hash, hash, received_at, json_extract(event, '$.metadata.event_code'),
         json_extract(event, '$.device.uid'), json_extract(event, '$.actor.user.uid'), NULL
    FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_v3 RENAME TO audit_events;
CREATE INDEX audit_events_time ON audit_events (time);
CREATE INDEX audit_events_workspace ON audit_events (workspace_id, time);
CREATE INDEX audit_events_actor ON audit_events (actor_user, time);

-- Where each source's chain continues: updated with every ingested batch.
CREATE TABLE audit_sources (
  source TEXT PRIMARY KEY NOT NULL CHECK (source <> ''),
  seq    INTEGER NOT NULL CHECK (seq >= 1),
  hash   TEXT NOT NULL,
  gseq   INTEGER NOT NULL
) STRICT;
INSERT INTO audit_sources
  SELECT source, seq, hash, gseq FROM audit_events e
   WHERE seq = (SELECT max(seq) FROM audit_events WHERE source = e.source);

-- One row: the last global sequence number handed out. Ingest locks it, which orders batches.
CREATE TABLE audit_state (
  id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
  gseq INTEGER NOT NULL CHECK (gseq >= 0)
) STRICT;
INSERT INTO audit_state (id, gseq) SELECT 1, COALESCE(max(gseq), 0) FROM audit_events;

-- Signed checkpoints: body is the canonical JSON that was signed (it holds the previous
-- checkpoint's hash and every chain head); hash is its SHA-256, signature Ed25519 (base64).
CREATE TABLE audit_checkpoints (
  idx       INTEGER PRIMARY KEY NOT NULL CHECK (idx >= 1),
  gseq      INTEGER NOT NULL CHECK (gseq >= 0),
  time      INTEGER NOT NULL,
  body      TEXT NOT NULL CHECK (json_valid(body)),
  hash      TEXT NOT NULL,
  signature TEXT NOT NULL,
  key_id    TEXT NOT NULL
) STRICT;
