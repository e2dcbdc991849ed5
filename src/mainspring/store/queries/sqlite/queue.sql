-- name: enqueue
-- dedupe_key collapses concurrent requests for the same work (one discovery per run).
-- A `call` item of a run with concurrency limits carries the run's keys (run_flow, flow control).
INSERT INTO queue (id, kind, run_id, step_id, step_name, attempt, available_at, dedupe_key,
    payload, created_at, ck1, ck1_limit, ck2, ck2_limit)
SELECT :id, :kind, :run_id, :step_id, :step_name, :attempt, :available_at, :dedupe_key, :payload, :now,
    f.ck1, f.ck1_limit, f.ck2, f.ck2_limit
FROM (SELECT 1 AS one) AS one LEFT JOIN run_flow f ON f.run_id = :run_id AND :kind = 'call'
WHERE true
ON CONFLICT (dedupe_key) DO NOTHING;

-- name: lease_due
-- Leases due items: the lease expiry becomes their available_at.
UPDATE queue SET available_at = :lease_until, leased_by = :owner
WHERE id IN (SELECT id FROM queue WHERE available_at <= :now ORDER BY available_at LIMIT :limit)
RETURNING id, kind, run_id, step_id, step_name, attempt, payload;

-- name: next_due
SELECT MIN(available_at) AS at FROM queue;

-- name: delete_item
DELETE FROM queue WHERE id = :id;

-- name: reschedule_item
-- Hands an item back to the queue for later (retry, or its lease given up).
UPDATE queue SET attempt = :attempt, available_at = :available_at, leased_by = NULL WHERE id = :id;

-- name: set_item_attempt
UPDATE queue SET attempt = :attempt WHERE id = :id;

-- name: renew_leases
UPDATE queue SET available_at = :lease_until WHERE leased_by = :owner AND id = :id;

-- name: release_all_leases
-- At start-up of the only process on this database, leases of a dead predecessor are void.
UPDATE queue SET available_at = :now, leased_by = NULL WHERE leased_by IS NOT NULL;

-- name: count_queue
SELECT COUNT(*) AS n FROM queue;

-- name: delete_by_dedupe_key
DELETE FROM queue WHERE dedupe_key = :dedupe_key;

-- name: ping
-- Is the database reachable?
SELECT 1 AS ok;
