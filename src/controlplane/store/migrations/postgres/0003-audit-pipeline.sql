-- Audit pipeline: a global sequence over every source's chain (gseq), each source's chain
-- head, and signed checkpoints. Event text is stored in canonical JSON from here on, so
-- verification can rebuild the hashed bytes without parsing. Search columns are copied out
-- of the event at ingest.

ALTER TABLE audit_events
  ADD COLUMN gseq BIGINT,
  ADD COLUMN event_code TEXT,
  ADD COLUMN workspace_id TEXT,
  ADD COLUMN actor_user TEXT,
  ADD COLUMN decision TEXT;
UPDATE audit_events a
   SET gseq = r.n,
       event_code = a.event::json #>> '{metadata,event_code}',
       workspace_id = a.event::json #>> '{device,uid}',
       actor_user = a.event::json #>> '{actor,user,uid}'
  FROM (SELECT source, seq, row_number() OVER (ORDER BY received_at, source, seq) AS n FROM audit_events) r
 WHERE a.source = r.source AND a.seq = r.seq;
ALTER TABLE audit_events ALTER COLUMN gseq SET NOT NULL;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_gseq_positive CHECK (gseq >= 1);
CREATE UNIQUE INDEX audit_events_gseq ON audit_events (gseq);
CREATE INDEX audit_events_workspace ON audit_events (workspace_id, time);
CREATE INDEX audit_events_actor ON audit_events (actor_user, time);

-- Where each source's chain continues: updated with every ingested batch.
CREATE TABLE audit_sources (
  source TEXT PRIMARY KEY CHECK (source <> ''),
  seq    BIGINT NOT NULL CHECK (seq >= 1),
  hash   TEXT NOT NULL,
  gseq   BIGINT NOT NULL
);
INSERT INTO audit_sources
  SELECT source, seq, hash, gseq FROM audit_events e
   WHERE seq = (SELECT max(seq) FROM audit_events WHERE source = e.source);

-- One row: the last global sequence number handed out. Ingest locks it (FOR UPDATE), which
-- orders batches from every replica into one sequence.
CREATE TABLE audit_state (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  gseq BIGINT NOT NULL CHECK (gseq >= 0)
);
INSERT INTO audit_state (id, gseq) SELECT 1, COALESCE(max(gseq), 0) FROM audit_events;

-- Signed checkpoints: body is the canonical JSON that was signed (it holds the previous
-- checkpoint's hash and every chain head); hash is its SHA-256, signature Ed25519 (base64).
CREATE TABLE audit_checkpoints (
  idx       BIGINT PRIMARY KEY CHECK (idx >= 1),
  gseq      BIGINT NOT NULL CHECK (gseq >= 0),
  time      BIGINT NOT NULL,
  body      TEXT NOT NULL,
  hash      TEXT NOT NULL,
  signature TEXT NOT NULL,
  key_id    TEXT NOT NULL
);
