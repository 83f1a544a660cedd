-- Where the SIEM sinks' feed stands: the last global sequence number handed to the sinks and
-- delivered (or dead-lettered) by every one of them. Kept in the store, not in a file, so
-- `paddock up` and `paddock serve` keep it the same way. It only moves forward.
CREATE TABLE audit_sink_cursors (
  feed       TEXT PRIMARY KEY NOT NULL CHECK (feed <> ''),
  gseq       INTEGER NOT NULL CHECK (gseq >= 0),
  updated_at INTEGER NOT NULL
) STRICT;
