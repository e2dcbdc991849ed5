-- Read-only queries of the dashboard (the run list itself is run_lists.sql).

-- name: function_run_counts
-- Runs of one function created since `since`, by status (Functions page, success rate).
SELECT status, COUNT(*) AS n FROM runs
WHERE function_slug = %(slug)s AND created_at >= %(since)s GROUP BY status;

-- name: function_recent_durations
-- Durations (ms) of the function's most recent ended runs since `since`, for p95.
SELECT ended_at - started_at AS duration_ms FROM runs
WHERE function_slug = %(slug)s AND created_at >= %(since)s
  AND ended_at IS NOT NULL AND started_at IS NOT NULL
ORDER BY id DESC LIMIT %(limit)s;

-- name: page_events
-- Events newest first, optional name, `cursor` = last internal id of the page before.
SELECT internal_id, id, name, data, "user", ts, v, received_at FROM events
WHERE (CAST(%(name)s AS TEXT) IS NULL OR name = %(name)s) AND (CAST(%(cursor)s AS TEXT) IS NULL OR internal_id < %(cursor)s)
ORDER BY internal_id DESC LIMIT %(limit)s;

-- name: count_runs_by_status
-- Totals for the Operations page.
SELECT status, COUNT(*) AS n FROM runs GROUP BY status;
