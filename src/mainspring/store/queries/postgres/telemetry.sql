-- name: init_export_cursor
-- A first position, once (a second process finds the row and waits on its lock).
INSERT INTO export_cursors (name, ended_at, run_id) VALUES (%(name)s, %(ended_at)s, '')
ON CONFLICT (name) DO NOTHING;

-- name: get_export_cursor
-- The export's position, locked until commit: two processes never claim the same runs.
SELECT ended_at, run_id FROM export_cursors WHERE name = %(name)s FOR UPDATE;

-- name: set_export_cursor
INSERT INTO export_cursors (name, ended_at, run_id) VALUES (%(name)s, %(ended_at)s, %(run_id)s)
ON CONFLICT (name) DO UPDATE SET ended_at = EXCLUDED.ended_at, run_id = EXCLUDED.run_id;

-- name: runs_ended_after
-- Ended runs after the keyset (ended_at, id), up to `upto`, oldest first (index runs_by_ended).
SELECT id, function_id, function_slug, event_id, status, output, created_at, started_at,
    ended_at
FROM runs
WHERE ended_at IS NOT NULL AND ended_at <= %(upto)s
    AND (ended_at > %(at)s OR (ended_at = %(at)s AND id > %(id)s))
ORDER BY ended_at, id LIMIT %(n)s;

-- name: history_of_runs
-- The history of several runs (`ids`: a JSON array), each in its order (index history_by_run).
SELECT run_id, at, kind, step_id, step_name, attempt, data FROM history
WHERE run_id = ANY(ARRAY(SELECT jsonb_array_elements_text(%(ids)s::jsonb))) ORDER BY run_id, id;

-- name: steps_of_runs
SELECT run_id, step_id, seq, name, op, memo, attempts, completed_at FROM steps
WHERE run_id = ANY(ARRAY(SELECT jsonb_array_elements_text(%(ids)s::jsonb)))
ORDER BY run_id, seq, completed_at, step_id;

-- name: spans_of_runs
SELECT run_id, span_id, trace_id, parent_span_id, step_id, attempt, name, kind, scope_name,
    service_name, status, status_message, start_ns, end_ns, attributes
FROM run_spans WHERE run_id = ANY(ARRAY(SELECT jsonb_array_elements_text(%(ids)s::jsonb)))
ORDER BY run_id, start_ns, span_id;
