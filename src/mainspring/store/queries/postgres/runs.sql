-- name: create_run
-- One statement: claim the (function, event id) key unless a live claim exists, create the run,
-- record run.scheduled and queue its discovery call. rowcount 1 means the run was created.
WITH claim AS (
    INSERT INTO run_keys (key, run_id, expires_at) VALUES (%(key)s, %(id)s, %(expires_at)s)
    ON CONFLICT (key) DO UPDATE SET run_id = EXCLUDED.run_id, expires_at = EXCLUDED.expires_at
    WHERE run_keys.expires_at <= %(now)s
    RETURNING run_id
), run AS (
    INSERT INTO runs (id, function_id, function_slug, event_id, event_ids, status, created_at)
    SELECT run_id, %(function_id)s, %(function_slug)s, %(event_id)s, %(event_ids)s, 'Running',
        %(now)s
    FROM claim
    RETURNING id
), scheduled AS (
    INSERT INTO history (run_id, at, kind) SELECT id, %(now)s, 'run.scheduled' FROM run
)
INSERT INTO queue (id, kind, run_id, attempt, available_at, dedupe_key, created_at)
SELECT %(item_id)s, 'call', id, 0, %(now)s, %(dedupe_key)s, %(now)s FROM run
ON CONFLICT (dedupe_key) DO NOTHING;

-- name: get_run
SELECT id, function_id, function_slug, event_id, event_ids, status, output, force_plan,
    request_version, created_at, started_at, ended_at
FROM runs WHERE id = %(id)s;

-- name: list_runs_by_event
SELECT id, function_id, function_slug, event_id, event_ids, status, output, force_plan,
    request_version, created_at, started_at, ended_at
FROM runs WHERE event_id = %(event_id)s ORDER BY id;

-- name: list_runs
SELECT id, function_id, function_slug, event_id, event_ids, status, output, force_plan,
    request_version, created_at, started_at, ended_at
FROM runs ORDER BY id DESC LIMIT %(limit)s;

-- name: list_runs_by_function
SELECT id, function_id, function_slug, event_id, event_ids, status, output, force_plan,
    request_version, created_at, started_at, ended_at
FROM runs WHERE function_slug = %(slug)s ORDER BY id DESC LIMIT %(limit)s;

-- name: list_runs_by_function_status
SELECT id, function_id, function_slug, event_id, event_ids, status, output, force_plan,
    request_version, created_at, started_at, ended_at
FROM runs WHERE function_slug = %(slug)s AND status = %(status)s ORDER BY id DESC LIMIT %(limit)s;

-- name: list_runs_by_status
SELECT id, function_id, function_slug, event_id, event_ids, status, output, force_plan,
    request_version, created_at, started_at, ended_at
FROM runs WHERE status = %(status)s ORDER BY id DESC LIMIT %(limit)s;

-- name: mark_run_started
-- A run cancelled while its first call was in flight keeps its record as it ended.
WITH started AS (
    UPDATE runs SET started_at = %(now)s, request_version = %(request_version)s
    WHERE id = %(id)s AND started_at IS NULL AND status = 'Running'
    RETURNING id
)
INSERT INTO history (run_id, at, kind) SELECT id, %(now)s, 'run.started' FROM started;
-- name: finish_run
-- Only a running run can finish (rowcount 0: someone else ended it first). One statement ends
-- it, drops its queue items, parallel bookkeeping and pauses, records the history entry and
-- stores its lifecycle event when one is given (event_internal_id not NULL).
WITH ended AS (
    UPDATE runs SET status = %(status)s, output = %(output)s, ended_at = %(now)s
    WHERE id = %(id)s AND status = 'Running'
    RETURNING id
), emitted AS (
    INSERT INTO events (internal_id, id, name, data, "user", ts, v, received_at)
    SELECT CAST(%(event_internal_id)s AS TEXT), %(event_id)s, %(event_name)s, %(event_data)s,
        %(event_user)s, %(event_ts)s, %(event_v)s, %(event_received_at)s
    FROM ended WHERE CAST(%(event_internal_id)s AS TEXT) IS NOT NULL
    ON CONFLICT (internal_id) DO NOTHING
), items AS (
    DELETE FROM queue WHERE run_id IN (SELECT id FROM ended)
), pending AS (
    DELETE FROM pending_steps WHERE run_id IN (SELECT id FROM ended)
), waits AS (
    DELETE FROM pauses WHERE run_id IN (SELECT id FROM ended)
)
INSERT INTO history (run_id, at, kind, data)
SELECT id, %(now)s, %(history_kind)s, %(history_data)s FROM ended;
-- name: set_run_plan
UPDATE runs SET force_plan = %(force_plan)s, request_version = %(request_version)s
WHERE id = %(id)s;

-- name: record_step
-- Memoized outputs are immutable: a duplicate delivery never overwrites one. Only a running run
-- records steps (a reply that arrives after a cancellation is discarded). The history entry is
-- written with the step, in the same statement; rowcount 1 means the step was recorded.
WITH step AS (
    INSERT INTO steps (run_id, step_id, seq, name, op, memo, attempts, completed_at)
    SELECT %(run_id)s, %(step_id)s,
        (SELECT COALESCE(MAX(seq), 0) + 1 FROM steps WHERE run_id = %(run_id)s),
        %(name)s, %(op)s, %(memo)s, %(attempts)s, %(now)s
    WHERE EXISTS (SELECT 1 FROM runs WHERE id = %(run_id)s AND status = 'Running')
    ON CONFLICT (run_id, step_id) DO NOTHING
    RETURNING run_id
)
INSERT INTO history (run_id, at, kind, step_id, step_name, attempt, data)
SELECT run_id, %(now)s, %(history_kind)s, %(step_id)s, %(name)s, %(history_attempt)s,
    %(history_data)s
FROM step;
-- name: list_steps
SELECT step_id, seq, name, op, memo, attempts, completed_at FROM steps
WHERE run_id = %(run_id)s ORDER BY seq, completed_at, step_id;

-- name: insert_pending_step
INSERT INTO pending_steps (run_id, step_id) VALUES (%(run_id)s, %(step_id)s) ON CONFLICT DO NOTHING;

-- name: delete_pending_step
DELETE FROM pending_steps WHERE run_id = %(run_id)s AND step_id = %(step_id)s;

-- name: pending_steps_and_plan
-- After a step of a parallel group resolved: how many of the group are still pending, and
-- whether the run is force-planning (one look-up instead of two; always one row).
SELECT (SELECT COUNT(*) FROM pending_steps WHERE run_id = %(id)s) AS pending,
    (SELECT force_plan FROM runs WHERE id = %(id)s) AS force_plan,
    (SELECT request_version FROM runs WHERE id = %(id)s) AS request_version;

-- name: count_pending_steps
SELECT COUNT(*) AS n FROM pending_steps WHERE run_id = %(run_id)s;

-- name: insert_history
INSERT INTO history (run_id, at, kind, step_id, step_name, attempt, data)
VALUES (%(run_id)s, %(at)s, %(kind)s, %(step_id)s, %(step_name)s, %(attempt)s, %(data)s);

-- name: list_history
SELECT at, kind, step_id, step_name, attempt, data FROM history
WHERE run_id = %(run_id)s ORDER BY id;

-- name: list_running_runs_of_function
-- Runs a bulk cancellation applies to: still running, created inside the window.
SELECT id, event_ids FROM runs
WHERE function_slug = %(slug)s AND status = 'Running'
  AND created_at >= %(started_after)s AND created_at <= %(started_before)s;

-- name: run_status
SELECT status FROM runs WHERE id = %(id)s;

-- name: lock_run
-- Serializes concurrent bookkeeping of one run (parallel steps finishing in two connections):
-- the second waits, then counts what the first committed.
SELECT id FROM runs WHERE id = %(id)s FOR UPDATE;

-- name: load_run_state
-- What the executor needs to call the SDK, in one round trip: the run, its events in trigger
-- order and its memoized steps in order, both as JSON text (json, not jsonb: kept verbatim),
-- and its defers' states (hashed id → status).
SELECT r.id, r.function_id, r.function_slug, r.status, r.force_plan, r.request_version,
    r.started_at,
    (SELECT COALESCE(json_agg(json_build_object(
            'name', e.name, 'data', e.data::json, 'user', e."user"::json, 'id', e.id,
            'ts', e.ts, 'v', e.v) ORDER BY ids.position), '[]')::text
     FROM jsonb_array_elements_text(r.event_ids::jsonb) WITH ORDINALITY AS ids(internal_id, position)
     -- LATERAL + LIMIT 1: one primary-key probe per id. A plain join let the planner hash the
     -- whole events table (its row guess for the id list is 100), a scan that grew with it.
     CROSS JOIN LATERAL (SELECT * FROM events WHERE events.internal_id = ids.internal_id
         LIMIT 1) e) AS events,
    (SELECT COALESCE(json_agg(json_build_object('step_id', s.step_id, 'memo', s.memo::json)
            ORDER BY s.seq, s.completed_at, s.step_id), '[]')::text
     FROM steps s WHERE s.run_id = r.id) AS steps,
    (SELECT COALESCE(json_object_agg(d.hashed_id, d.status), '{}')::text
     FROM run_defers d WHERE d.run_id = r.id) AS defers
FROM runs r WHERE r.id = %(id)s;

-- name: load_run_states
-- load_run_state for several runs in one statement (`ids`: a JSON array): the worker reads
-- the runs of the calls it leased in the lease's own transaction.
SELECT r.id, r.function_id, r.function_slug, r.status, r.force_plan, r.request_version,
    r.started_at,
    (SELECT COALESCE(json_agg(json_build_object(
            'name', e.name, 'data', e.data::json, 'user', e."user"::json, 'id', e.id,
            'ts', e.ts, 'v', e.v) ORDER BY ids.position), '[]')::text
     FROM jsonb_array_elements_text(r.event_ids::jsonb) WITH ORDINALITY AS ids(internal_id, position)
     -- LATERAL + LIMIT 1: one primary-key probe per id. A plain join let the planner hash the
     -- whole events table (its row guess for the id list is 100), a scan that grew with it.
     CROSS JOIN LATERAL (SELECT * FROM events WHERE events.internal_id = ids.internal_id
         LIMIT 1) e) AS events,
    (SELECT COALESCE(json_agg(json_build_object('step_id', s.step_id, 'memo', s.memo::json)
            ORDER BY s.seq, s.completed_at, s.step_id), '[]')::text
     FROM steps s WHERE s.run_id = r.id) AS steps,
    (SELECT COALESCE(json_object_agg(d.hashed_id, d.status), '{}')::text
     FROM run_defers d WHERE d.run_id = r.id) AS defers
FROM runs r WHERE r.id = ANY(ARRAY(SELECT jsonb_array_elements_text(%(ids)s::jsonb)));

-- name: list_runs_by_events
-- The runs of several events at once (`ids`: a JSON array of internal event ids), oldest first.
SELECT id, function_id, function_slug, event_id, event_ids, status, output, force_plan,
    request_version, created_at, started_at, ended_at
FROM runs WHERE event_id = ANY(ARRAY(SELECT jsonb_array_elements_text(%(ids)s::jsonb))) ORDER BY id;
