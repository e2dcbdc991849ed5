-- Core schema: apps, functions, events, runs, steps, history, queue. Times are epoch milliseconds.
-- Each statement ends with a semicolon and none contains one (the migrator splits on it).
CREATE TABLE apps (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    url         TEXT NOT NULL,
    sdk         TEXT,
    framework   TEXT,
    checksum    TEXT,
    error       TEXT,
    synced_at   BIGINT,
    created_at  BIGINT NOT NULL
);

CREATE TABLE functions (
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(id),
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    config      TEXT NOT NULL,
    archived_at BIGINT,
    updated_at  BIGINT NOT NULL
);

-- "user" is a reserved word in PostgreSQL: always quoted.
CREATE TABLE events (
    internal_id TEXT PRIMARY KEY,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    data        TEXT NOT NULL,
    "user"      TEXT NOT NULL,
    ts          BIGINT NOT NULL,
    v           TEXT,
    received_at BIGINT NOT NULL
);
CREATE INDEX events_by_name ON events(name, received_at);
CREATE INDEX events_by_received ON events(received_at);

-- Sender-supplied event ids seen recently: a resend within the window is stored once.
CREATE TABLE event_ids (
    id          TEXT PRIMARY KEY,
    internal_id TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    function_id      TEXT NOT NULL,
    function_slug    TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_ids        TEXT NOT NULL,
    status           TEXT NOT NULL,
    output           TEXT,
    force_plan       BIGINT NOT NULL DEFAULT 0,
    request_version  BIGINT NOT NULL DEFAULT -1,
    created_at       BIGINT NOT NULL,
    started_at       BIGINT,
    ended_at         BIGINT
);
CREATE INDEX runs_by_event ON runs(event_id);
CREATE INDEX runs_by_function ON runs(function_slug, created_at);

-- Run idempotency: one run per (function, event id) within the window.
CREATE TABLE run_keys (
    key        TEXT PRIMARY KEY,
    run_id     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Memoized step results, immutable once written.
CREATE TABLE steps (
    run_id       TEXT NOT NULL,
    step_id      TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    name         TEXT,
    op           TEXT NOT NULL,
    memo         TEXT NOT NULL,
    attempts     BIGINT NOT NULL,
    completed_at BIGINT NOT NULL,
    PRIMARY KEY (run_id, step_id)
);

-- Steps of a parallel group still waiting for their result.
CREATE TABLE pending_steps (
    run_id  TEXT NOT NULL,
    step_id TEXT NOT NULL,
    PRIMARY KEY (run_id, step_id)
);

CREATE TABLE history (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id    TEXT NOT NULL,
    at        BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    step_id   TEXT,
    step_name TEXT,
    attempt   BIGINT,
    data      TEXT
);
CREATE INDEX history_by_run ON history(run_id, id);

-- One queue of timed work. A leased item's available_at is its lease expiry, so an item whose
-- worker died becomes due again by itself. dedupe_key makes "one discovery per run" atomic.
CREATE TABLE queue (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    step_id      TEXT,
    step_name    TEXT,
    attempt      BIGINT NOT NULL DEFAULT 0,
    available_at BIGINT NOT NULL,
    leased_by    TEXT,
    dedupe_key   TEXT UNIQUE,
    created_at   BIGINT NOT NULL
);
CREATE INDEX queue_due ON queue(available_at);
CREATE INDEX queue_by_run ON queue(run_id);
