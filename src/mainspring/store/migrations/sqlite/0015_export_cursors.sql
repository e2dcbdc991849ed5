-- Issue 18: how far the OpenTelemetry trace export has got through ended runs, as a keyset
-- (ended_at, run id). Claimed in a write transaction, so on PostgreSQL each ended run is
-- exported by one process only, and a restart goes on where the last one stopped.
CREATE TABLE export_cursors (
    name     TEXT PRIMARY KEY,
    ended_at INTEGER NOT NULL,
    run_id   TEXT NOT NULL
);
