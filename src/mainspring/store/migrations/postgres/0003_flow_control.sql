-- Flow control (issue 6). Concurrency slots are leased `call` items: each carries the keys it
-- counts against (copied from run_flow at enqueue), and the leased ones are found by a partial
-- index, so counting slots never scans the backlog.
ALTER TABLE queue ADD COLUMN ck1 TEXT;
ALTER TABLE queue ADD COLUMN ck1_limit INTEGER;
ALTER TABLE queue ADD COLUMN ck2 TEXT;
ALTER TABLE queue ADD COLUMN ck2_limit INTEGER;
CREATE INDEX queue_leased ON queue(leased_by) WHERE leased_by IS NOT NULL;
-- Insertion order breaks ties between items due at the same instant (FIFO within a priority);
-- SQLite uses its rowid for that.
ALTER TABLE queue ADD COLUMN seq BIGSERIAL;

-- The concurrency keys of a run (only runs of functions with limits have a row).
CREATE TABLE run_flow (
    run_id    TEXT PRIMARY KEY,
    ck1       TEXT,
    ck1_limit INTEGER,
    ck2       TEXT,
    ck2_limit INTEGER
);

-- Per-key state: throttle's GCRA theoretical arrival time (tat); rateLimit and idempotency
-- keep the instants they admitted within the period (state, a JSON list).
CREATE TABLE flow_buckets (
    key   TEXT PRIMARY KEY,
    state TEXT,
    tat BIGINT
);

-- Singleton: the run that holds each key.
CREATE TABLE flow_singletons (
    key    TEXT PRIMARY KEY,
    run_id TEXT
);

-- Debounce and batchEvents: events collected per key until a timer item (queue kind
-- debounce / batch, dedupe key flow:<key>) or a full batch starts the run.
CREATE TABLE flow_pending (
    key           TEXT PRIMARY KEY,
    function_slug TEXT NOT NULL,
    event_ids     TEXT NOT NULL,
    first_at      BIGINT NOT NULL,
    fire_at       BIGINT NOT NULL
);
