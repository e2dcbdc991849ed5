-- Issue 19: the server's environments. Kept in the default environment's store only (each
-- environment has a store of its own: a SQLite file or a PostgreSQL schema); the other stores
-- get the table too and leave it empty. `kind`: 'configured' (--env) or 'branch' (created by
-- the first sync naming it). An archived environment runs nothing until a sync brings it back.
CREATE TABLE environments (
    name        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    active_at   INTEGER NOT NULL,
    archived_at INTEGER
);
-- The kill switch of every environment at once (one row while it is on).
CREATE TABLE global_kill_switch (
    id           INTEGER PRIMARY KEY,
    reason       TEXT,
    requested_by TEXT,
    since        INTEGER NOT NULL
);
-- An event key belongs to one environment; an API token may be limited to some (NULL: all).
ALTER TABLE event_keys ADD COLUMN env TEXT NOT NULL DEFAULT 'production';
ALTER TABLE api_tokens ADD COLUMN envs TEXT;
