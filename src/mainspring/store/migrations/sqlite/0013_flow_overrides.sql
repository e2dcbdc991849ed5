-- Live overrides of a function's flow control (issue 19 part 3): set by an operator, they win over
-- the synced config until cleared. Keyed by slug, as a function keeps its slug across syncs.
-- `config` is a JSON object in the SDK's shape: concurrency, throttle, rateLimit, priority.
CREATE TABLE function_overrides (
    function_slug TEXT PRIMARY KEY,
    config        TEXT NOT NULL,
    concurrency   INTEGER,  -- read by the SQL that stores a new run's concurrency limits
    updated_by    TEXT,
    updated_at    INTEGER NOT NULL
);
