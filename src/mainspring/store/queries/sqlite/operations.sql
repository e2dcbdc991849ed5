-- name: hold_state
-- Is anything held? Read at every lease, so it only counts two tiny tables.
SELECT (SELECT COUNT(*) FROM kill_switch) AS killed,
    (SELECT COUNT(*) FROM function_pauses) AS paused;

-- name: list_function_pauses
SELECT function_slug, reason, requested_by, paused_at FROM function_pauses ORDER BY function_slug;

-- name: get_function_pause
SELECT function_slug, reason, requested_by, paused_at FROM function_pauses
WHERE function_slug = :slug;

-- name: insert_function_pause
-- Pausing a paused function keeps its first pause (and so the instant events start being held).
INSERT INTO function_pauses (function_slug, reason, requested_by, paused_at)
VALUES (:slug, :reason, :requested_by, :now)
ON CONFLICT (function_slug) DO NOTHING;

-- name: delete_function_pause
DELETE FROM function_pauses WHERE function_slug = :slug;

-- name: get_kill_switch
SELECT reason, requested_by, since FROM kill_switch WHERE id = 1;

-- name: insert_kill_switch
INSERT INTO kill_switch (id, reason, requested_by, since) VALUES (1, :reason, :requested_by, :now)
ON CONFLICT (id) DO NOTHING;

-- name: delete_kill_switch
DELETE FROM kill_switch WHERE id = 1;

-- name: run_function
SELECT function_slug FROM runs WHERE id = :id;

-- name: park_item
-- A held item waits at a far-future due time that only a resume brings back to now.
UPDATE queue SET available_at = :parked, leased_by = NULL WHERE id = :id;

-- name: unpark_function_items
UPDATE queue SET available_at = :now
WHERE available_at = :parked
  AND run_id IN (SELECT id FROM runs WHERE function_slug = :slug);

-- name: unpark_all_items
-- The kill switch is off: everything parked comes back, except items of functions still paused.
UPDATE queue SET available_at = :now
WHERE available_at = :parked
  AND NOT EXISTS (
    SELECT 1 FROM runs r JOIN function_pauses p ON p.function_slug = r.function_slug
    WHERE r.id = queue.run_id
  );

-- name: unstarted_runs_of_function
-- Runs whose event arrived while the function was held and that never made an SDK call.
SELECT id FROM runs
WHERE function_slug = :slug AND status = 'Running' AND started_at IS NULL AND created_at >= :since;

-- name: unstarted_runs
SELECT id FROM runs WHERE status = 'Running' AND started_at IS NULL AND created_at >= :since;

-- name: claim_replay
-- The idempotency key is claimed first; rowcount 0 means the replay exists already.
INSERT INTO replays (id, idempotency_key, request, run_ids, created_at)
VALUES (:id, :idempotency_key, :request, '[]', :now)
ON CONFLICT (idempotency_key) DO NOTHING;

-- name: set_replay_runs
UPDATE replays SET run_ids = :run_ids WHERE id = :id;

-- name: get_replay_by_key
SELECT id, idempotency_key, request, run_ids, created_at FROM replays
WHERE idempotency_key = :idempotency_key;

-- name: get_replay
SELECT id, idempotency_key, request, run_ids, created_at FROM replays WHERE id = :id;

-- name: insert_run_origin
INSERT INTO run_origins (run_id, original_run_id, replay_id)
VALUES (:run_id, :original_run_id, :replay_id);

-- name: get_run_origin
SELECT original_run_id, replay_id FROM run_origins WHERE run_id = :run_id;

-- name: replay_candidates
-- Runs a filtered bulk replay selects: one function, one status, a creation window (ULID bounds).
SELECT id FROM runs
WHERE function_slug = :slug AND status = :status AND id >= :lower AND id < :upper
ORDER BY id LIMIT :limit;

-- name: get_alert_states
SELECT rule, firing, since, detail FROM alert_states ORDER BY rule;

-- name: upsert_alert_state
INSERT INTO alert_states (rule, firing, since, detail) VALUES (:rule, :firing, :since, :detail)
ON CONFLICT (rule) DO UPDATE SET firing = excluded.firing, since = excluded.since,
    detail = excluded.detail;

-- name: insert_rerun
-- A rerun is a new run of the same function with the same events; it claims no run key
-- (the original already holds it).
INSERT INTO runs (id, function_id, function_slug, event_id, event_ids, status, created_at)
SELECT :id, function_id, function_slug, event_id, event_ids, 'Running', :now
FROM runs WHERE id = :original_run_id;

-- name: run_jobs
SELECT id, kind, step_id, step_name, attempt, available_at, leased_by, created_at
FROM queue WHERE run_id = :run_id ORDER BY available_at;

-- name: run_held
-- Does the run have a parked item (its function is paused, or the kill switch is on)?
SELECT 1 AS held FROM queue WHERE run_id = :run_id AND available_at = :parked LIMIT 1;

-- name: copy_steps_before
-- A rerun from a step keeps the original's memoized steps recorded before that step.
INSERT INTO steps (run_id, step_id, seq, name, op, memo, attempts, completed_at)
SELECT :run_id, step_id, seq, name, op, memo, attempts, completed_at
FROM steps WHERE run_id = :original_run_id AND seq < :seq;

-- name: durability_in_effect
-- 1 is NORMAL (survives a killed process), 2 is FULL (fsync every commit: survives power loss).
SELECT CASE synchronous WHEN 2 THEN 'power' ELSE 'process' END AS durability
FROM pragma_synchronous;

-- name: get_alert_deliveries
SELECT rule, channel, announced, fired_at, suppressed FROM alert_deliveries;

-- name: upsert_alert_delivery
INSERT INTO alert_deliveries (rule, channel, announced, fired_at, suppressed)
VALUES (:rule, :channel, :announced, :fired_at, :suppressed)
ON CONFLICT (rule, channel) DO UPDATE SET announced = excluded.announced,
    fired_at = excluded.fired_at, suppressed = excluded.suppressed;
