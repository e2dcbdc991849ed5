-- Operations (issue 7 part B): paused functions, the kill switch, replays, alert state, and
-- indexes for listing runs newest first by status / function (ids are ULIDs: time-ordered).
CREATE TABLE function_pauses (
    function_slug TEXT PRIMARY KEY,
    reason        TEXT,
    requested_by  TEXT,
    paused_at     INTEGER NOT NULL
);

-- At most one row: present while the kill switch is active.
CREATE TABLE kill_switch (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    reason       TEXT,
    requested_by TEXT,
    since        INTEGER NOT NULL
);

-- Bulk replays; the Idempotency-Key makes a retried request answer the first one's runs.
CREATE TABLE replays (
    id              TEXT PRIMARY KEY,
    idempotency_key TEXT UNIQUE,
    request         TEXT NOT NULL,
    run_ids         TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

-- Which run a rerun repeats (`original_run_id` in the run view).
CREATE TABLE run_origins (
    run_id          TEXT PRIMARY KEY,
    original_run_id TEXT NOT NULL,
    replay_id       TEXT
);

-- Alert rules' last known state, so a trip or a clear is posted once even across restarts.
CREATE TABLE alert_states (
    rule       TEXT PRIMARY KEY,
    firing     INTEGER NOT NULL,
    since      INTEGER NOT NULL,
    detail     TEXT
);

CREATE INDEX runs_by_status_id ON runs(status, id);
CREATE INDEX runs_by_function_id ON runs(function_slug, id);
CREATE INDEX runs_by_function_status_id ON runs(function_slug, status, id);
CREATE INDEX runs_by_ended ON runs(ended_at);

CREATE INDEX run_origins_by_original ON run_origins(original_run_id);
