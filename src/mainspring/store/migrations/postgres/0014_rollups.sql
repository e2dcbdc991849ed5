-- Per-minute rollups for the dashboard's charts (issue 18). A periodic round recomputes the last
-- few minutes from runs and history and upserts whole rows (SET, never +=), so several processes
-- on one database write the same numbers instead of counting twice. `minute` is epoch ms of the
-- minute's start; histograms are JSON objects {bucket index: count} (operations/histogram.py).
-- `span_ms` is 60000 for a minute's row, 3600000 for an hour's (the merge of its minutes, kept by
-- the same round, so a week's chart reads 168 rows, not 10,080).
CREATE TABLE rollup_functions (
    function_slug TEXT NOT NULL,
    span_ms       BIGINT NOT NULL,
    minute        BIGINT NOT NULL,
    started       BIGINT NOT NULL DEFAULT 0,
    completed     BIGINT NOT NULL DEFAULT 0,
    failed        BIGINT NOT NULL DEFAULT 0,
    cancelled     BIGINT NOT NULL DEFAULT 0,
    durations     TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (function_slug, span_ms, minute)
);
CREATE INDEX rollup_functions_by_minute ON rollup_functions(span_ms, minute);

CREATE TABLE rollup_steps (
    function_slug TEXT NOT NULL,
    step_name     TEXT NOT NULL,
    span_ms       BIGINT NOT NULL,
    minute        BIGINT NOT NULL,
    completed     BIGINT NOT NULL DEFAULT 0,
    failed        BIGINT NOT NULL DEFAULT 0,
    errors        BIGINT NOT NULL DEFAULT 0,
    durations     TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (function_slug, span_ms, minute, step_name)
);
CREATE INDEX rollup_steps_by_minute ON rollup_steps(span_ms, minute);

-- One sample per minute of the queue and dead letters (the latest round of the minute wins);
-- an hour's row holds the highest of its minutes.
CREATE TABLE rollup_system (
    span_ms      BIGINT NOT NULL,
    minute       BIGINT NOT NULL,
    queue_depth  BIGINT NOT NULL,
    ready        BIGINT NOT NULL,
    ready_lag_ms BIGINT NOT NULL,
    in_flight    BIGINT NOT NULL,
    dead_letters BIGINT NOT NULL,
    PRIMARY KEY (span_ms, minute)
);

-- Runs by the minute they ended: the round reads the runs that ended since its look-back.
CREATE INDEX runs_by_end ON runs(ended_at) WHERE ended_at IS NOT NULL;
