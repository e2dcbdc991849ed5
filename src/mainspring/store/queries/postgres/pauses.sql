-- name: insert_pause
INSERT INTO pauses (id, run_id, kind, step_id, step_name, event_name, match_field, match_key,
    expression, trigger_event, created_at, expires_at)
VALUES (%(id)s, %(run_id)s, %(kind)s, %(step_id)s, %(step_name)s, %(event_name)s, %(match_field)s,
    %(match_key)s, %(expression)s, %(trigger_event)s, %(now)s, %(expires_at)s)
ON CONFLICT (id) DO NOTHING;

-- name: remember_pause_field
INSERT INTO pause_fields (event_name, match_field) VALUES (%(event_name)s, %(match_field)s)
ON CONFLICT DO NOTHING;

-- name: take_pauses_by_key
-- Indexed equality pauses an event satisfies, consumed as they are found (RETURNING has no
-- order: the caller sorts them oldest first).
DELETE FROM pauses
WHERE event_name = %(event_name)s AND match_field = %(match_field)s AND match_key = %(match_key)s
  AND expires_at > %(now)s
RETURNING id, run_id, kind, step_id, step_name, event_name, created_at;

-- name: pause_candidates
-- One round trip per event: the fields its indexed pauses are keyed by (rows with `match_field`),
-- then the pauses whose expression must be evaluated (rows with `id`), oldest first.
SELECT match_field, NULL AS id, NULL AS run_id, NULL AS kind, NULL AS step_id,
    NULL AS step_name, NULL AS event_name, NULL AS expression, NULL AS trigger_event,
    0 AS created_at
FROM pause_fields WHERE event_name = %(event_name)s
UNION ALL
SELECT NULL, id, run_id, kind, step_id, step_name, event_name, expression, trigger_event, created_at
FROM pauses
WHERE event_name = %(event_name)s AND match_field IS NULL AND expires_at > %(now)s
ORDER BY created_at, id

-- name: get_pause
SELECT id, run_id, kind, step_id, step_name, event_name, expression, trigger_event, created_at
FROM pauses WHERE id = %(id)s;

-- name: delete_pause
DELETE FROM pauses WHERE id = %(id)s;

-- name: insert_cancellation
INSERT INTO cancellations (id, app_id, function_slug, started_after, started_before, expression,
    cancelled, created_at)
VALUES (%(id)s, %(app_id)s, %(function_slug)s, %(started_after)s, %(started_before)s,
    %(expression)s, %(cancelled)s, %(now)s);

-- name: list_cancellations
SELECT id, app_id, function_slug, started_after, started_before, expression, cancelled, created_at
FROM cancellations ORDER BY created_at DESC LIMIT %(limit)s;

-- name: get_cancellation
SELECT id, app_id, function_slug, started_after, started_before, expression, cancelled, created_at
FROM cancellations WHERE id = %(id)s;

-- name: delete_cancellation
DELETE FROM cancellations WHERE id = %(id)s;

-- name: pause_candidates_of_names
-- pause_candidates for several event names in one round trip (a request of many events).
SELECT match_field, NULL AS id, NULL AS run_id, NULL AS kind, NULL AS step_id,
    NULL AS step_name, event_name, NULL AS expression, NULL AS trigger_event, 0 AS created_at
FROM pause_fields WHERE event_name IN (SELECT jsonb_array_elements_text(CAST(%(names)s AS jsonb)))
UNION ALL
SELECT NULL, id, run_id, kind, step_id, step_name, event_name, expression, trigger_event, created_at
FROM pauses
WHERE event_name IN (SELECT jsonb_array_elements_text(CAST(%(names)s AS jsonb))) AND match_field IS NULL AND expires_at > %(now)s
ORDER BY created_at, id
