-- name: create_run
-- Claim the (function, event id) key unless a live claim exists, then (only if claimed) create
-- the run, record run.scheduled and queue its discovery call. rowcount 1: the run was created.
INSERT INTO run_keys (key, run_id, expires_at) VALUES (:key, :id, :expires_at)
ON CONFLICT (key) DO UPDATE SET run_id = excluded.run_id, expires_at = excluded.expires_at
WHERE run_keys.expires_at <= :now;
INSERT INTO runs (id, function_id, function_slug, event_id, event_ids, status, created_at)
VALUES (:id, :function_id, :function_slug, :event_id, :event_ids, 'Running', :now);
INSERT INTO history (run_id, at, kind) VALUES (:id, :now, 'run.scheduled');
INSERT INTO queue (id, kind, run_id, attempt, available_at, dedupe_key, created_at)
VALUES (:item_id, 'call', :id, 0, :now, :dedupe_key, :now)
ON CONFLICT (dedupe_key) DO NOTHING;

-- name: get_run
SELECT id, function_id, function_slug, event_id, event_ids, status, output, force_plan,
    request_version, created_at, started_at, ended_at
FROM runs WHERE id = :id;

-- name: list_runs_by_event
SELECT id, function_id, function_slug, event_id, event_ids, status, output, force_plan,
    request_version, created_at, started_at, ended_at
FROM runs WHERE event_id = :event_id ORDER BY id;

-- name: list_runs
SELECT id, function_id, function_slug, event_id, event_ids, status, output, force_plan,
    request_version, created_at, started_at, ended_at
FROM runs ORDER BY id DESC LIMIT :limit;

-- name: list_runs_by_function
SELECT id, function_id, function_slug, event_id, event_ids, status, output, force_plan,
    request_version, created_at, started_at, ended_at
FROM runs WHERE function_slug = :slug ORDER BY id DESC LIMIT :limit;

-- name: list_runs_by_function_status
SELECT id, function_id, function_slug, event_id, event_ids, status, output, force_plan,
    request_version, created_at, started_at, ended_at
FROM runs WHERE function_slug = :slug AND status = :status ORDER BY id DESC LIMIT :limit;

-- name: list_runs_by_status
SELECT id, function_id, function_slug, event_id, event_ids, status, output, force_plan,
    request_version, created_at, started_at, ended_at
FROM runs WHERE status = :status ORDER BY id DESC LIMIT :limit;

-- name: mark_run_started
-- A run cancelled while its first call was in flight keeps its record as it ended.
UPDATE runs SET started_at = :now, request_version = :request_version
WHERE id = :id AND started_at IS NULL AND status = 'Running';
INSERT INTO history (run_id, at, kind) VALUES (:id, :now, 'run.started');
-- name: finish_run
-- Only a running run can finish (rowcount 0: someone else ended it first). Then drop its queue
-- items, parallel bookkeeping and pauses, record the history entry and store its lifecycle
-- event when one is given (event_internal_id not NULL).
UPDATE runs SET status = :status, output = :output, ended_at = :now
WHERE id = :id AND status = 'Running';
DELETE FROM queue WHERE run_id = :id;
DELETE FROM pending_steps WHERE run_id = :id;
DELETE FROM pauses WHERE run_id = :id;
INSERT INTO history (run_id, at, kind, data) VALUES (:id, :now, :history_kind, :history_data);
INSERT INTO events (internal_id, id, name, data, user, ts, v, received_at)
SELECT :event_internal_id, :event_id, :event_name, :event_data, :event_user, :event_ts,
    :event_v, :event_received_at
WHERE :event_internal_id IS NOT NULL
ON CONFLICT (internal_id) DO NOTHING;
-- name: set_run_plan
UPDATE runs SET force_plan = :force_plan, request_version = :request_version WHERE id = :id;

-- name: record_step
-- Memoized outputs are immutable: a duplicate delivery never overwrites one. Only a running run
-- records steps (a reply that arrives after a cancellation is discarded). The history entry
-- follows only when the step was recorded; rowcount 1 means it was.
INSERT INTO steps (run_id, step_id, seq, name, op, memo, attempts, completed_at)
SELECT :run_id, :step_id,
    (SELECT COALESCE(MAX(seq), 0) + 1 FROM steps WHERE run_id = :run_id),
    :name, :op, :memo, :attempts, :now
WHERE EXISTS (SELECT 1 FROM runs WHERE id = :run_id AND status = 'Running')
ON CONFLICT (run_id, step_id) DO NOTHING;
INSERT INTO history (run_id, at, kind, step_id, step_name, attempt, data)
VALUES (:run_id, :now, :history_kind, :step_id, :name, :history_attempt, :history_data);
-- name: list_steps
SELECT step_id, seq, name, op, memo, attempts, completed_at FROM steps
WHERE run_id = :run_id ORDER BY seq, completed_at, step_id;

-- name: insert_pending_step
INSERT INTO pending_steps (run_id, step_id) VALUES (:run_id, :step_id) ON CONFLICT DO NOTHING;

-- name: delete_pending_step
DELETE FROM pending_steps WHERE run_id = :run_id AND step_id = :step_id;

-- name: pending_steps_and_plan
-- After a step of a parallel group resolved: how many of the group are still pending, and
-- whether the run is force-planning (one look-up instead of two; always one row).
SELECT (SELECT COUNT(*) FROM pending_steps WHERE run_id = :id) AS pending,
    (SELECT force_plan FROM runs WHERE id = :id) AS force_plan,
    (SELECT request_version FROM runs WHERE id = :id) AS request_version;

-- name: count_pending_steps
SELECT COUNT(*) AS n FROM pending_steps WHERE run_id = :run_id;

-- name: insert_history
INSERT INTO history (run_id, at, kind, step_id, step_name, attempt, data)
VALUES (:run_id, :at, :kind, :step_id, :step_name, :attempt, :data);

-- name: list_history
SELECT at, kind, step_id, step_name, attempt, data FROM history WHERE run_id = :run_id ORDER BY id;

-- name: list_running_runs_of_function
-- Runs a bulk cancellation applies to: still running, created inside the window.
SELECT id, event_ids FROM runs
WHERE function_slug = :slug AND status = 'Running'
  AND created_at >= :started_after AND created_at <= :started_before;

-- name: run_status
SELECT status FROM runs WHERE id = :id;

-- name: lock_run
-- Serializes concurrent bookkeeping of one run (parallel steps finishing in two connections).
SELECT id FROM runs WHERE id = :id;

-- name: load_run_state
-- What the executor needs to call the SDK: the run, its events in trigger order and its
-- memoized steps in order, both as JSON text (the same shape as on PostgreSQL), and its
-- defers' states (hashed id → status).
SELECT r.id, r.function_id, r.function_slug, r.status, r.force_plan, r.request_version,
    r.started_at,
    (SELECT json_group_array(json_object(
            'name', e.name, 'data', json(e.data), 'user', json(e."user"), 'id', e.id,
            'ts', e.ts, 'v', e.v))
     FROM (SELECT events.* FROM json_each(r.event_ids) AS ids
           JOIN events ON events.internal_id = ids.value ORDER BY ids.key) AS e) AS events,
    (SELECT json_group_array(json_object('step_id', s.step_id, 'memo', json(s.memo)))
     FROM (SELECT step_id, memo FROM steps WHERE run_id = r.id
           ORDER BY seq, completed_at, step_id) AS s) AS steps,
    (SELECT json_group_object(hashed_id, status) FROM run_defers WHERE run_id = r.id) AS defers
FROM runs r WHERE r.id = :id;

-- name: load_run_states
-- load_run_state for several runs in one statement (`ids`: a JSON array): the worker reads
-- the runs of the calls it leased in the lease's own transaction.
SELECT r.id, r.function_id, r.function_slug, r.status, r.force_plan, r.request_version,
    r.started_at,
    (SELECT json_group_array(json_object(
            'name', e.name, 'data', json(e.data), 'user', json(e."user"), 'id', e.id,
            'ts', e.ts, 'v', e.v))
     FROM (SELECT events.* FROM json_each(r.event_ids) AS ids
           JOIN events ON events.internal_id = ids.value ORDER BY ids.key) AS e) AS events,
    (SELECT json_group_array(json_object('step_id', s.step_id, 'memo', json(s.memo)))
     FROM (SELECT step_id, memo FROM steps WHERE run_id = r.id
           ORDER BY seq, completed_at, step_id) AS s) AS steps,
    (SELECT json_group_object(hashed_id, status) FROM run_defers WHERE run_id = r.id) AS defers
FROM runs r WHERE r.id IN (SELECT value FROM json_each(:ids));

-- name: list_runs_by_events
-- The runs of several events at once (`ids`: a JSON array of internal event ids), oldest first.
SELECT id, function_id, function_slug, event_id, event_ids, status, output, force_plan,
    request_version, created_at, started_at, ended_at
FROM runs WHERE event_id IN (SELECT value FROM json_each(:ids)) ORDER BY id;
