-- Where the SIEM sinks' feed stands: the last global sequence number handed to the sinks and
-- delivered (or dead-lettered) by every one of them. Kept in the shared store, not in a
-- replica's file, so the replica that takes over feeding the sinks (the leader of the `audit`
-- election) continues where the previous one stopped. It only moves forward.
CREATE TABLE audit_sink_cursors (
  feed       TEXT PRIMARY KEY CHECK (feed <> ''),
  gseq       BIGINT NOT NULL CHECK (gseq >= 0),
  updated_at BIGINT NOT NULL
);
