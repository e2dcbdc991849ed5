-- name: insert_pause
INSERT INTO pauses (id, run_id, kind, step_id, step_name, event_name, match_field, match_key,
    expression, trigger_event, created_at, expires_at)
VALUES (:id, :run_id, :kind, :step_id, :step_name, :event_name, :match_field, :match_key,
    :expression, :trigger_event, :now, :expires_at)
ON CONFLICT (id) DO NOTHING;

-- name: remember_pause_field
INSERT INTO pause_fields (event_name, match_field) VALUES (:event_name, :match_field)
ON CONFLICT DO NOTHING;

-- name: take_pauses_by_key
-- Indexed equality pauses an event satisfies, consumed as they are found (RETURNING has no
-- order: the caller sorts them oldest first).
DELETE FROM pauses
WHERE event_name = :event_name AND match_field = :match_field AND match_key = :match_key
  AND expires_at > :now
RETURNING id, run_id, kind, step_id, step_name, event_name, created_at;

-- name: pause_candidates
-- One round trip per event: the fields its indexed pauses are keyed by (rows with `match_field`),
-- then the pauses whose expression must be evaluated (rows with `id`), oldest first.
SELECT match_field, NULL AS id, NULL AS run_id, NULL AS kind, NULL AS step_id,
    NULL AS step_name, NULL AS event_name, NULL AS expression, NULL AS trigger_event,
    0 AS created_at
FROM pause_fields WHERE event_name = :event_name
UNION ALL
SELECT NULL, id, run_id, kind, step_id, step_name, event_name, expression, trigger_event, created_at
FROM pauses
WHERE event_name = :event_name AND match_field IS NULL AND expires_at > :now
ORDER BY created_at, id

-- name: get_pause
SELECT id, run_id, kind, step_id, step_name, event_name, expression, trigger_event, created_at
FROM pauses WHERE id = :id;

-- name: delete_pause
DELETE FROM pauses WHERE id = :id;

-- name: insert_cancellation
INSERT INTO cancellations (id, app_id, function_slug, started_after, started_before, expression,
    cancelled, created_at)
VALUES (:id, :app_id, :function_slug, :started_after, :started_before, :expression, :cancelled, :now);

-- name: list_cancellations
SELECT id, app_id, function_slug, started_after, started_before, expression, cancelled, created_at
FROM cancellations ORDER BY created_at DESC LIMIT :limit;

-- name: get_cancellation
SELECT id, app_id, function_slug, started_after, started_before, expression, cancelled, created_at
FROM cancellations WHERE id = :id;

-- name: delete_cancellation
DELETE FROM cancellations WHERE id = :id;

-- name: pause_candidates_of_names
-- pause_candidates for several event names in one round trip (a request of many events).
SELECT match_field, NULL AS id, NULL AS run_id, NULL AS kind, NULL AS step_id,
    NULL AS step_name, event_name, NULL AS expression, NULL AS trigger_event, 0 AS created_at
FROM pause_fields WHERE event_name IN (SELECT value FROM json_each(:names))
UNION ALL
SELECT NULL, id, run_id, kind, step_id, step_name, event_name, expression, trigger_event, created_at
FROM pauses
WHERE event_name IN (SELECT value FROM json_each(:names)) AND match_field IS NULL AND expires_at > :now
ORDER BY created_at, id
