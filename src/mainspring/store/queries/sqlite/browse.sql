-- Read-only queries of the dashboard and the filtered run list.

-- name: search_runs
-- Runs newest first; every filter optional (NULL = any); `cursor` = last id of the page before.
SELECT r.id, r.function_id, r.function_slug, r.event_id, r.status, r.output, r.created_at,
    r.started_at, r.ended_at, e.name AS event_name, e.data AS event_data
FROM runs r LEFT JOIN events e ON e.internal_id = r.event_id
WHERE 1 = 1
  AND (:status IS NULL OR r.status = :status)
  AND (:app_id IS NULL OR r.function_id IN (SELECT f.id FROM functions f WHERE f.app_id = :app_id))
  AND (:created_after IS NULL OR r.created_at >= :created_after)
  AND (:created_before IS NULL OR r.created_at < :created_before)
  AND (:cursor IS NULL OR r.id < :cursor)
ORDER BY r.id DESC LIMIT :limit;

-- name: search_runs_by_function
-- As search_runs, within one function (index runs_by_function_status_id / _id).
SELECT r.id, r.function_id, r.function_slug, r.event_id, r.status, r.output, r.created_at,
    r.started_at, r.ended_at, e.name AS event_name, e.data AS event_data
FROM runs r LEFT JOIN events e ON e.internal_id = r.event_id
WHERE r.function_slug = :slug
  AND (:status IS NULL OR r.status = :status)
  AND (:app_id IS NULL OR r.function_id IN (SELECT f.id FROM functions f WHERE f.app_id = :app_id))
  AND (:created_after IS NULL OR r.created_at >= :created_after)
  AND (:created_before IS NULL OR r.created_at < :created_before)
  AND (:cursor IS NULL OR r.id < :cursor)
ORDER BY r.id DESC LIMIT :limit;

-- name: search_runs_by_status_only
-- One status, no function: walks index runs_by_status_id newest first.
SELECT r.id, r.function_id, r.function_slug, r.event_id, r.status, r.output, r.created_at,
    r.started_at, r.ended_at, e.name AS event_name, e.data AS event_data
FROM runs r LEFT JOIN events e ON e.internal_id = r.event_id
WHERE r.status = :status
  AND (:app_id IS NULL OR r.function_id IN (SELECT f.id FROM functions f WHERE f.app_id = :app_id))
  AND (:created_after IS NULL OR r.created_at >= :created_after)
  AND (:created_before IS NULL OR r.created_at < :created_before)
  AND (:cursor IS NULL OR r.id < :cursor)
ORDER BY r.status DESC, r.id DESC LIMIT :limit;

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
