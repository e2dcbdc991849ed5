-- Read-only queries of the dashboard (the run list itself is run_lists.sql).

-- name: function_run_counts
-- Runs of one function created since `since`, by status (Functions page, success rate).
SELECT status, COUNT(*) AS n FROM runs
WHERE function_slug = :slug AND created_at >= :since GROUP BY status;

-- name: function_recent_durations
-- Durations (ms) of the function's most recent ended runs since `since`, for p95.
SELECT ended_at - started_at AS duration_ms FROM runs
WHERE function_slug = :slug AND created_at >= :since
  AND ended_at IS NOT NULL AND started_at IS NOT NULL
ORDER BY id DESC LIMIT :limit;

-- name: page_events
-- Events newest first, optional name, `cursor` = last internal id of the page before.
SELECT internal_id, id, name, data, user, ts, v, received_at FROM events
WHERE (:name IS NULL OR name = :name) AND (:cursor IS NULL OR internal_id < :cursor)
ORDER BY internal_id DESC LIMIT :limit;

-- name: count_runs_by_status
-- Totals for the Operations page.
SELECT status, COUNT(*) AS n FROM runs GROUP BY status;
