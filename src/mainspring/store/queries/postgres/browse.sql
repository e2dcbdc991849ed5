-- Read-only queries of the dashboard and the filtered run list.

-- name: search_runs
-- Runs newest first; every filter optional (NULL = any); `cursor` = last id of the page before.
SELECT r.id, r.function_id, r.function_slug, r.event_id, r.status, r.output, r.created_at,
    r.started_at, r.ended_at, e.name AS event_name, e.data AS event_data
FROM runs r LEFT JOIN events e ON e.internal_id = r.event_id
WHERE 1 = 1
  AND (CAST(%(status)s AS TEXT) IS NULL OR r.status = %(status)s)
  AND (CAST(%(app_id)s AS TEXT) IS NULL OR r.function_id IN (SELECT f.id FROM functions f WHERE f.app_id = %(app_id)s))
  AND (CAST(%(created_after)s AS BIGINT) IS NULL OR r.created_at >= %(created_after)s)
  AND (CAST(%(created_before)s AS BIGINT) IS NULL OR r.created_at < %(created_before)s)
  AND (CAST(%(cursor)s AS TEXT) IS NULL OR r.id < %(cursor)s)
ORDER BY r.id DESC LIMIT %(limit)s;

-- name: search_runs_by_function
-- As search_runs, within one function (index runs_by_function_status_id / _id).
SELECT r.id, r.function_id, r.function_slug, r.event_id, r.status, r.output, r.created_at,
    r.started_at, r.ended_at, e.name AS event_name, e.data AS event_data
FROM runs r LEFT JOIN events e ON e.internal_id = r.event_id
WHERE r.function_slug = %(slug)s
  AND (CAST(%(status)s AS TEXT) IS NULL OR r.status = %(status)s)
  AND (CAST(%(app_id)s AS TEXT) IS NULL OR r.function_id IN (SELECT f.id FROM functions f WHERE f.app_id = %(app_id)s))
  AND (CAST(%(created_after)s AS BIGINT) IS NULL OR r.created_at >= %(created_after)s)
  AND (CAST(%(created_before)s AS BIGINT) IS NULL OR r.created_at < %(created_before)s)
  AND (CAST(%(cursor)s AS TEXT) IS NULL OR r.id < %(cursor)s)
ORDER BY r.id DESC LIMIT %(limit)s;

-- name: search_runs_by_status_only
-- One status, no function: walks index runs_by_status_id newest first.
SELECT r.id, r.function_id, r.function_slug, r.event_id, r.status, r.output, r.created_at,
    r.started_at, r.ended_at, e.name AS event_name, e.data AS event_data
FROM runs r LEFT JOIN events e ON e.internal_id = r.event_id
WHERE r.status = %(status)s
  AND (CAST(%(app_id)s AS TEXT) IS NULL OR r.function_id IN (SELECT f.id FROM functions f WHERE f.app_id = %(app_id)s))
  AND (CAST(%(created_after)s AS BIGINT) IS NULL OR r.created_at >= %(created_after)s)
  AND (CAST(%(created_before)s AS BIGINT) IS NULL OR r.created_at < %(created_before)s)
  AND (CAST(%(cursor)s AS TEXT) IS NULL OR r.id < %(cursor)s)
ORDER BY r.status DESC, r.id DESC LIMIT %(limit)s;

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
