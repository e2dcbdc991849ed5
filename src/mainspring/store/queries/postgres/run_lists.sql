-- Listing runs newest first. Ids are ULIDs (time-ordered), so the creation window and the
-- cursor are bounds on the id: [lower, upper). Each variant walks one index backwards.

-- name: runs_page
SELECT r.id, r.function_id, r.function_slug, r.event_id, r.event_ids, r.status, r.output,
    r.created_at, r.started_at, r.ended_at, e.name AS event_name, e.data AS event_data,
    e.id AS event_sender_id, e.ts AS event_ts
FROM runs r LEFT JOIN events e ON e.internal_id = r.event_id
WHERE r.id >= %(lower)s AND r.id < %(upper)s
ORDER BY r.id DESC LIMIT %(limit)s;

-- name: runs_page_by_status
SELECT r.id, r.function_id, r.function_slug, r.event_id, r.event_ids, r.status, r.output,
    r.created_at, r.started_at, r.ended_at, e.name AS event_name, e.data AS event_data,
    e.id AS event_sender_id, e.ts AS event_ts
FROM runs r LEFT JOIN events e ON e.internal_id = r.event_id
WHERE r.status = %(status)s AND r.id >= %(lower)s AND r.id < %(upper)s
ORDER BY r.id DESC LIMIT %(limit)s;

-- name: runs_page_by_function
SELECT r.id, r.function_id, r.function_slug, r.event_id, r.event_ids, r.status, r.output,
    r.created_at, r.started_at, r.ended_at, e.name AS event_name, e.data AS event_data,
    e.id AS event_sender_id, e.ts AS event_ts
FROM runs r LEFT JOIN events e ON e.internal_id = r.event_id
WHERE r.function_slug = %(slug)s AND r.id >= %(lower)s AND r.id < %(upper)s
ORDER BY r.id DESC LIMIT %(limit)s;

-- name: runs_page_by_function_status
SELECT r.id, r.function_id, r.function_slug, r.event_id, r.event_ids, r.status, r.output,
    r.created_at, r.started_at, r.ended_at, e.name AS event_name, e.data AS event_data,
    e.id AS event_sender_id, e.ts AS event_ts
FROM runs r LEFT JOIN events e ON e.internal_id = r.event_id
WHERE r.function_slug = %(slug)s AND r.status = %(status)s AND r.id >= %(lower)s AND r.id < %(upper)s
ORDER BY r.id DESC LIMIT %(limit)s;

-- name: runs_page_by_app
-- `app` is the app's name (its SDK app id) or our internal app id.
SELECT r.id, r.function_id, r.function_slug, r.event_id, r.event_ids, r.status, r.output,
    r.created_at, r.started_at, r.ended_at, e.name AS event_name, e.data AS event_data,
    e.id AS event_sender_id, e.ts AS event_ts
FROM runs r LEFT JOIN events e ON e.internal_id = r.event_id
WHERE r.function_id IN (
    SELECT f.id FROM functions f JOIN apps a ON a.id = f.app_id WHERE a.name = %(app)s OR a.id = %(app)s
) AND r.id >= %(lower)s AND r.id < %(upper)s
ORDER BY r.id DESC LIMIT %(limit)s;

-- name: runs_page_by_app_status
SELECT r.id, r.function_id, r.function_slug, r.event_id, r.event_ids, r.status, r.output,
    r.created_at, r.started_at, r.ended_at, e.name AS event_name, e.data AS event_data,
    e.id AS event_sender_id, e.ts AS event_ts
FROM runs r LEFT JOIN events e ON e.internal_id = r.event_id
WHERE r.function_id IN (
    SELECT f.id FROM functions f JOIN apps a ON a.id = f.app_id WHERE a.name = %(app)s OR a.id = %(app)s
) AND r.status = %(status)s AND r.id >= %(lower)s AND r.id < %(upper)s
ORDER BY r.id DESC LIMIT %(limit)s;

-- Counting what a listing holds, every page together: one variant per `runs_page` variant.

-- name: runs_count
SELECT COUNT(*) AS n FROM runs WHERE id >= %(lower)s AND id < %(upper)s;

-- name: runs_count_by_status
SELECT COUNT(*) AS n FROM runs WHERE status = %(status)s AND id >= %(lower)s AND id < %(upper)s;

-- name: runs_count_by_function
SELECT COUNT(*) AS n FROM runs WHERE function_slug = %(slug)s AND id >= %(lower)s AND id < %(upper)s;

-- name: runs_count_by_function_status
SELECT COUNT(*) AS n FROM runs
WHERE function_slug = %(slug)s AND status = %(status)s AND id >= %(lower)s AND id < %(upper)s;

-- name: runs_count_by_app
SELECT COUNT(*) AS n FROM runs WHERE function_id IN (
    SELECT f.id FROM functions f JOIN apps a ON a.id = f.app_id WHERE a.name = %(app)s OR a.id = %(app)s
) AND id >= %(lower)s AND id < %(upper)s;

-- name: runs_count_by_app_status
SELECT COUNT(*) AS n FROM runs
WHERE function_id IN (
    SELECT f.id FROM functions f JOIN apps a ON a.id = f.app_id WHERE a.name = %(app)s OR a.id = %(app)s
) AND status = %(status)s AND id >= %(lower)s AND id < %(upper)s;
