-- Pauses: runs waiting for an event (wait_for_event, invoke results, cancel rules), indexed by event
-- name and, for equality expressions, by the literal the incoming event must carry.
CREATE TABLE pauses (
    id            TEXT PRIMARY KEY,
    run_id        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    step_id       TEXT,
    step_name     TEXT,
    event_name    TEXT NOT NULL,
    match_field   TEXT,
    match_key     TEXT,
    expression    TEXT,
    trigger_event TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX pauses_by_key ON pauses(event_name, match_field, match_key);
CREATE INDEX pauses_by_run ON pauses(run_id);

-- Which fields of an event name are used as pause keys. Tiny, so an event looks up its candidate
-- keys without scanning pauses.
CREATE TABLE pause_fields (
    event_name  TEXT NOT NULL,
    match_field TEXT NOT NULL,
    PRIMARY KEY (event_name, match_field)
);

CREATE TABLE cancellations (
    id             TEXT PRIMARY KEY,
    app_id         TEXT,
    function_slug  TEXT NOT NULL,
    started_after  BIGINT,
    started_before BIGINT NOT NULL,
    expression     TEXT,
    cancelled      BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);

ALTER TABLE queue ADD COLUMN payload TEXT;
