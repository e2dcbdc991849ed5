-- Flow control (issue 6): slot counting, GCRA buckets, singletons, skipped runs.

-- name: flow_lease_candidates
-- Due items, oldest first (ties in insertion order), leaving out items of keys whose slots are all taken (so a saturated
-- key's backlog never fills the window). The final decision is made after flow_lock_key.
WITH held AS (
    SELECT ck1 AS k, ck1_limit AS lim FROM queue
    WHERE leased_by IS NOT NULL AND available_at > %(now)s AND ck1 IS NOT NULL
    UNION ALL
    SELECT ck2 AS k, ck2_limit AS lim FROM queue
    WHERE leased_by IS NOT NULL AND available_at > %(now)s AND ck2 IS NOT NULL
), saturated AS (
    SELECT k FROM held GROUP BY k HAVING COUNT(*) >= MIN(lim)
)
SELECT id, kind, run_id, step_id, step_name, attempt, payload, ck1, ck1_limit, ck2, ck2_limit
FROM queue
WHERE available_at <= %(now)s
    AND (ck1 IS NULL OR ck1 NOT IN (SELECT k FROM saturated))
    AND (ck2 IS NULL OR ck2 NOT IN (SELECT k FROM saturated))
ORDER BY available_at, seq
LIMIT %(limit)s
FOR UPDATE OF queue SKIP LOCKED;

-- name: flow_lock_keys
-- Held to commit: a process that wants a slot of one of these keys waits until our leases are
-- visible, then counts them, so two processes can never both take the last slot. `keys` is a
-- JSON array, sorted by the caller: one lock order everywhere, no deadlock. One round trip.
SELECT COUNT(pg_advisory_xact_lock(hashtextextended(k.value, 0))) AS locked
FROM jsonb_array_elements_text(%(keys)s::jsonb) WITH ORDINALITY AS k(value, position);

-- name: flow_slots_in_use
-- Calls in flight per key: leased items whose lease has not expired.
SELECT k, COUNT(*) AS n FROM (
    SELECT ck1 AS k FROM queue
    WHERE leased_by IS NOT NULL AND available_at > %(now)s AND ck1 IS NOT NULL
    UNION ALL
    SELECT ck2 AS k FROM queue
    WHERE leased_by IS NOT NULL AND available_at > %(now)s AND ck2 IS NOT NULL
) AS held GROUP BY k;

-- name: flow_lease_items
-- Every chosen item in one statement (`ids`: a JSON array). ARRAY(...) first, then `= ANY`: a
-- primary-key probe per id (a join on the function's rows could scan the queue).
UPDATE queue SET available_at = %(lease_until)s, leased_by = %(owner)s
WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text(%(ids)s::jsonb)));

-- name: flow_queue_outlook
-- After a lease, in one round trip: the next item that becomes due after now (leased items
-- count: their lease may expire), and whether a due item was left behind (our own leases are
-- no longer due).
SELECT (SELECT MIN(available_at) FROM queue WHERE available_at > %(now)s) AS at,
    (SELECT 1 FROM queue WHERE available_at <= %(now)s LIMIT 1) AS due;

-- name: flow_insert_run_keys
-- A function's own keys (`ckN_own`: scope fn) take its live concurrency override when there is
-- one: read here, in the run's transaction, so a process that has not yet reloaded its
-- function set still stores the limit the operator set (issue 19).
INSERT INTO run_flow (run_id, ck1, ck1_limit, ck2, ck2_limit)
VALUES (%(run_id)s, %(ck1)s,
    CASE WHEN %(ck1_own)s THEN COALESCE((SELECT concurrency FROM function_overrides
        WHERE function_slug = %(slug)s), %(ck1_limit)s) ELSE %(ck1_limit)s END,
    %(ck2)s,
    CASE WHEN %(ck2_own)s THEN COALESCE((SELECT concurrency FROM function_overrides
        WHERE function_slug = %(slug)s), %(ck2_limit)s) ELSE %(ck2_limit)s END)
ON CONFLICT (run_id) DO NOTHING;

-- name: flow_delete_run_keys
DELETE FROM run_flow WHERE run_id = %(run_id)s;

-- name: flow_place_discovery
-- The first call of a new run: its start time (throttle, priority) and concurrency keys.
-- Own keys take the live override, as in flow_insert_run_keys.
UPDATE queue SET available_at = %(available_at)s, ck1 = %(ck1)s, ck2 = %(ck2)s,
    ck1_limit = CASE WHEN %(ck1_own)s THEN COALESCE((SELECT concurrency FROM function_overrides
        WHERE function_slug = %(slug)s), %(ck1_limit)s) ELSE %(ck1_limit)s END,
    ck2_limit = CASE WHEN %(ck2_own)s THEN COALESCE((SELECT concurrency FROM function_overrides
        WHERE function_slug = %(slug)s), %(ck2_limit)s) ELSE %(ck2_limit)s END
WHERE dedupe_key = %(dedupe_key)s;

-- name: flow_ensure_bucket
INSERT INTO flow_buckets (key, state, tat) VALUES (%(key)s, NULL, NULL) ON CONFLICT (key) DO NOTHING;

-- name: flow_lock_bucket
SELECT tat, state FROM flow_buckets WHERE key = %(key)s FOR UPDATE;

-- name: flow_set_bucket
UPDATE flow_buckets SET tat = %(tat)s, state = %(state)s WHERE key = %(key)s;

-- name: flow_ensure_singleton
INSERT INTO flow_singletons (key, run_id) VALUES (%(key)s, NULL) ON CONFLICT (key) DO NOTHING;

-- name: flow_lock_singleton
SELECT s.run_id, r.status FROM flow_singletons s LEFT JOIN runs r ON r.id = s.run_id
WHERE s.key = %(key)s FOR UPDATE OF s;

-- name: flow_set_singleton
UPDATE flow_singletons SET run_id = %(run_id)s WHERE key = %(key)s;

-- name: flow_insert_skipped_run
-- A run that flow control did not start (rateLimit, idempotency, singleton skip): visible, ended.
INSERT INTO runs (id, function_id, function_slug, event_id, event_ids, status, output,
    created_at, ended_at)
VALUES (%(id)s, %(function_id)s, %(function_slug)s, %(event_id)s, %(event_ids)s, 'Skipped', %(output)s, %(now)s, %(now)s);

-- name: flow_ensure_pending
-- A new key starts empty ('[]'); the caller fills it under the lock.
INSERT INTO flow_pending (key, function_slug, event_ids, first_at, fire_at)
VALUES (%(key)s, %(function_slug)s, '[]', %(now)s, %(now)s) ON CONFLICT (key) DO NOTHING;

-- name: flow_lock_pending
SELECT key, function_slug, event_ids, first_at, fire_at FROM flow_pending WHERE key = %(key)s FOR UPDATE;

-- name: flow_set_pending
UPDATE flow_pending SET event_ids = %(event_ids)s, fire_at = %(fire_at)s WHERE key = %(key)s;

-- name: flow_delete_pending
DELETE FROM flow_pending WHERE key = %(key)s;

-- name: flow_move_timer
UPDATE queue SET available_at = %(available_at)s WHERE dedupe_key = %(dedupe_key)s;

-- name: flow_set_run_events
-- A batch run: all its trigger events, in arrival order.
UPDATE runs SET event_ids = %(event_ids)s WHERE id = %(id)s;
