-- name: hold_state
-- Is anything held? Read at every lease, so it only counts two tiny tables. The rows are locked
-- (FOR SHARE) until the lease commits: a kill switch turned off or a function resumed at the
-- same time (DELETE, then unpark everything parked) waits for the lease, so its unpark sees
-- what the lease parked; a lease that comes second waits for that DELETE and parks nothing.
-- Without the locks an item parked by a concurrent lease stayed parked for good.
WITH killed AS (SELECT id FROM kill_switch FOR SHARE),
    paused AS (SELECT function_slug FROM function_pauses FOR SHARE)
SELECT (SELECT COUNT(*) FROM killed) AS killed, (SELECT COUNT(*) FROM paused) AS paused;

-- name: list_function_pauses
SELECT function_slug, reason, requested_by, paused_at FROM function_pauses ORDER BY function_slug;

-- name: get_function_pause
SELECT function_slug, reason, requested_by, paused_at FROM function_pauses
WHERE function_slug = %(slug)s;

-- name: insert_function_pause
-- Pausing a paused function keeps its first pause (and so the instant events start being held).
INSERT INTO function_pauses (function_slug, reason, requested_by, paused_at)
VALUES (%(slug)s, %(reason)s, %(requested_by)s, %(now)s)
ON CONFLICT (function_slug) DO NOTHING;

-- name: delete_function_pause
DELETE FROM function_pauses WHERE function_slug = %(slug)s;

-- name: get_kill_switch
SELECT reason, requested_by, since FROM kill_switch WHERE id = 1;

-- name: insert_kill_switch
INSERT INTO kill_switch (id, reason, requested_by, since) VALUES (1, %(reason)s, %(requested_by)s, %(now)s)
ON CONFLICT (id) DO NOTHING;

-- name: delete_kill_switch
DELETE FROM kill_switch WHERE id = 1;

-- name: run_function
SELECT function_slug FROM runs WHERE id = %(id)s;

-- name: park_item
-- A held item waits at a far-future due time that only a resume brings back to now.
UPDATE queue SET available_at = %(parked)s, leased_by = NULL WHERE id = %(id)s;

-- name: unpark_function_items
UPDATE queue SET available_at = %(now)s
WHERE available_at = %(parked)s
  AND run_id IN (SELECT id FROM runs WHERE function_slug = %(slug)s);

-- name: unpark_all_items
-- The kill switch is off: everything parked comes back, except items of functions still paused.
UPDATE queue SET available_at = %(now)s
WHERE available_at = %(parked)s
  AND NOT EXISTS (
    SELECT 1 FROM runs r JOIN function_pauses p ON p.function_slug = r.function_slug
    WHERE r.id = queue.run_id
  );

-- name: unstarted_runs_of_function
-- Runs whose event arrived while the function was held and that never made an SDK call.
SELECT id FROM runs
WHERE function_slug = %(slug)s AND status = 'Running' AND started_at IS NULL AND created_at >= %(since)s;

-- name: unstarted_runs
SELECT id FROM runs WHERE status = 'Running' AND started_at IS NULL AND created_at >= %(since)s;

-- name: claim_replay
-- The idempotency key is claimed first; rowcount 0 means the replay exists already.
INSERT INTO replays (id, idempotency_key, request, run_ids, created_at)
VALUES (%(id)s, %(idempotency_key)s, %(request)s, '[]', %(now)s)
ON CONFLICT (idempotency_key) DO NOTHING;

-- name: set_replay_runs
UPDATE replays SET run_ids = %(run_ids)s WHERE id = %(id)s;

-- name: get_replay_by_key
SELECT id, idempotency_key, request, run_ids, created_at FROM replays
WHERE idempotency_key = %(idempotency_key)s;

-- name: get_replay
SELECT id, idempotency_key, request, run_ids, created_at FROM replays WHERE id = %(id)s;

-- name: insert_run_origin
INSERT INTO run_origins (run_id, original_run_id, replay_id)
VALUES (%(run_id)s, %(original_run_id)s, %(replay_id)s);

-- name: get_run_origin
SELECT original_run_id, replay_id FROM run_origins WHERE run_id = %(run_id)s;

-- name: replay_candidates
-- Runs a filtered bulk replay selects: one function, one status, a creation window (ULID bounds).
SELECT id FROM runs
WHERE function_slug = %(slug)s AND status = %(status)s AND id >= %(lower)s AND id < %(upper)s
ORDER BY id LIMIT %(limit)s;

-- name: get_alert_states
SELECT rule, firing, since, detail FROM alert_states ORDER BY rule;

-- name: upsert_alert_state
INSERT INTO alert_states (rule, firing, since, detail) VALUES (%(rule)s, %(firing)s, %(since)s, %(detail)s)
ON CONFLICT (rule) DO UPDATE SET firing = excluded.firing, since = excluded.since,
    detail = excluded.detail;

-- name: insert_rerun
-- A rerun is a new run of the same function with the same events; it claims no run key
-- (the original already holds it).
INSERT INTO runs (id, function_id, function_slug, event_id, event_ids, status, created_at)
SELECT %(id)s, function_id, function_slug, event_id, event_ids, 'Running', %(now)s
FROM runs WHERE id = %(original_run_id)s;

-- name: run_jobs
SELECT id, kind, step_id, step_name, attempt, available_at, leased_by, created_at
FROM queue WHERE run_id = %(run_id)s ORDER BY available_at;

-- name: run_held
-- Does the run have a parked item (its function is paused, or the kill switch is on)?
SELECT 1 AS held FROM queue WHERE run_id = %(run_id)s AND available_at = %(parked)s LIMIT 1;

-- name: copy_steps_before
-- A rerun from a step keeps the original's memoized steps recorded before that step.
INSERT INTO steps (run_id, step_id, seq, name, op, memo, attempts, completed_at)
SELECT %(run_id)s, step_id, seq, name, op, memo, attempts, completed_at
FROM steps WHERE run_id = %(original_run_id)s AND seq < %(seq)s;

-- name: durability_in_effect
-- synchronous_commit=off acknowledges before the WAL flush; anything else waits for it.
SELECT CASE current_setting('synchronous_commit') WHEN 'off' THEN 'process' ELSE 'power' END
    AS durability;

-- name: get_alert_deliveries
SELECT rule, channel, announced, fired_at, suppressed FROM alert_deliveries;

-- name: upsert_alert_delivery
INSERT INTO alert_deliveries (rule, channel, announced, fired_at, suppressed)
VALUES (%(rule)s, %(channel)s, %(announced)s, %(fired_at)s, %(suppressed)s)
ON CONFLICT (rule, channel) DO UPDATE SET announced = excluded.announced,
    fired_at = excluded.fired_at, suppressed = excluded.suppressed;
