-- Per-minute rollups for the charts (operations/rollups.py). A round reads what ended or
-- started in its look-back, aggregates in Python and upserts whole rows (SET, never +=).

-- name: rollup_started
-- Runs created per function and minute (ids are time-ordered: one range of the primary key).
SELECT function_slug, (created_at / 60000) * 60000 AS minute, COUNT(*) AS n FROM runs
WHERE id >= %(lower)s AND id < %(upper)s
  AND created_at >= %(lo)s AND created_at < %(hi)s
GROUP BY function_slug, (created_at / 60000) * 60000;

-- name: rollup_ended
-- Runs that ended in [lo, hi), with what a duration histogram needs.
SELECT function_slug, status, started_at, ended_at FROM runs
WHERE ended_at >= %(lo)s AND ended_at < %(hi)s;

-- name: rollup_step_history
-- Step entries of the runs that ended in [lo, hi), each run's history in order (a step's
-- duration starts at the entry before its result, as in the run's timeline).
SELECT r.function_slug, r.ended_at, h.run_id, h.at, h.kind, h.step_id, h.step_name
FROM runs r JOIN history h ON h.run_id = r.id
WHERE r.ended_at >= %(lo)s AND r.ended_at < %(hi)s
ORDER BY h.run_id, h.id;

-- name: rollup_in_flight
-- Leased items: calls to apps in progress in any process (parked items are held, not leased).
SELECT COUNT(*) AS n FROM queue WHERE leased_by IS NOT NULL AND available_at <> %(parked)s;

-- name: rollup_upsert_function
INSERT INTO rollup_functions
    (function_slug, span_ms, minute, started, completed, failed, cancelled, durations)
VALUES (%(function_slug)s, %(span_ms)s, %(minute)s, %(started)s, %(completed)s, %(failed)s, %(cancelled)s, %(durations)s)
ON CONFLICT (function_slug, span_ms, minute) DO UPDATE SET
    started = excluded.started, completed = excluded.completed, failed = excluded.failed,
    cancelled = excluded.cancelled, durations = excluded.durations;

-- name: rollup_upsert_step
INSERT INTO rollup_steps
    (function_slug, step_name, span_ms, minute, completed, failed, errors, durations)
VALUES (%(function_slug)s, %(step_name)s, %(span_ms)s, %(minute)s, %(completed)s, %(failed)s, %(errors)s, %(durations)s)
ON CONFLICT (function_slug, span_ms, minute, step_name) DO UPDATE SET
    completed = excluded.completed, failed = excluded.failed, errors = excluded.errors,
    durations = excluded.durations;

-- name: rollup_upsert_system
INSERT INTO rollup_system
    (span_ms, minute, queue_depth, ready, ready_lag_ms, in_flight, dead_letters)
VALUES (%(span_ms)s, %(minute)s, %(queue_depth)s, %(ready)s, %(ready_lag_ms)s, %(in_flight)s, %(dead_letters)s)
ON CONFLICT (span_ms, minute) DO UPDATE SET
    queue_depth = excluded.queue_depth, ready = excluded.ready,
    ready_lag_ms = excluded.ready_lag_ms, in_flight = excluded.in_flight,
    dead_letters = excluded.dead_letters;

-- name: rollup_function_rows
SELECT minute, started, completed, failed, cancelled, durations FROM rollup_functions
WHERE function_slug = %(slug)s AND span_ms = %(span)s AND minute >= %(lo)s AND minute < %(hi)s
ORDER BY minute;

-- name: rollup_step_rows
SELECT step_name, completed, failed, errors, durations FROM rollup_steps
WHERE function_slug = %(slug)s AND span_ms = %(span)s AND minute >= %(lo)s AND minute < %(hi)s;

-- name: rollup_system_rows
SELECT minute, queue_depth, ready, ready_lag_ms, in_flight, dead_letters FROM rollup_system
WHERE span_ms = %(span)s AND minute >= %(lo)s AND minute < %(hi)s ORDER BY minute;

-- name: rollup_functions_to_merge
-- Every function's minute rows of whole hours, merged into hour rows by the round.
SELECT function_slug, minute, started, completed, failed, cancelled, durations
FROM rollup_functions WHERE span_ms = 60000 AND minute >= %(lo)s AND minute < %(hi)s;

-- name: rollup_steps_to_merge
SELECT function_slug, step_name, minute, completed, failed, errors, durations
FROM rollup_steps WHERE span_ms = 60000 AND minute >= %(lo)s AND minute < %(hi)s;

-- name: rollup_system_to_merge
SELECT minute, queue_depth, ready, ready_lag_ms, in_flight, dead_letters
FROM rollup_system WHERE span_ms = 60000 AND minute >= %(lo)s AND minute < %(hi)s;

-- name: prune_rollup_functions
DELETE FROM rollup_functions WHERE minute < %(cutoff)s;

-- name: prune_rollup_steps
DELETE FROM rollup_steps WHERE minute < %(cutoff)s;

-- name: prune_rollup_system
DELETE FROM rollup_system WHERE minute < %(cutoff)s;
