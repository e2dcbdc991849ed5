-- Issue 16: what an SDK adds to a run beside its steps. Run metadata (`step.metadata`,
-- `inngest.metadata`, AI usage), the app's own OpenTelemetry spans (userland traces) and
-- `defer()`s, each deleted with its run (retention).

-- One row per metadata update, in arrival order; the read side rolls the updates of one
-- (scope, step, span, kind) up with their ops (merge, set, delete, add). `size` is what the
-- per-run cap counts (key lengths + JSON value lengths, as Inngest counts it).
CREATE TABLE run_metadata (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id   TEXT NOT NULL,
    step_id  TEXT,
    span_id  TEXT,
    scope    TEXT NOT NULL,
    kind     TEXT NOT NULL,
    op       TEXT NOT NULL,
    data     TEXT NOT NULL,
    size     BIGINT NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX run_metadata_by_run ON run_metadata(run_id, id);

-- Userland spans as the SDK exported them (OTLP), under the step that produced them
-- (`step_id`: the hashed step id the SDK sets as `inngest.step.hash`). Times in nanoseconds.
CREATE TABLE run_spans (
    run_id         TEXT NOT NULL,
    span_id        TEXT NOT NULL,
    trace_id       TEXT NOT NULL,
    parent_span_id TEXT,
    step_id        TEXT,
    attempt        BIGINT,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    scope_name     TEXT,
    service_name   TEXT,
    status         TEXT NOT NULL,
    status_message TEXT,
    start_ns       BIGINT NOT NULL,
    end_ns         BIGINT NOT NULL,
    attributes     TEXT NOT NULL,
    size           BIGINT NOT NULL,
    received_at    BIGINT NOT NULL,
    PRIMARY KEY (run_id, span_id)
);

-- A run's defers by the SDK's hashed id: `live` until the run ends (then `scheduled`, once its
-- `inngest/deferred.schedule` event is stored), or `aborted`. An abort that arrives first leaves
-- an `aborted` row, so a later `DeferAdd` of the same id cannot revive it.
CREATE TABLE run_defers (
    run_id      TEXT NOT NULL,
    hashed_id   TEXT NOT NULL,
    userland_id TEXT,
    fn_slug     TEXT NOT NULL,
    input       TEXT NOT NULL,
    meta        TEXT,
    status      TEXT NOT NULL,
    added_at    BIGINT NOT NULL,
    event_id    TEXT,
    PRIMARY KEY (run_id, hashed_id)
);
