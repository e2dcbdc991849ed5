-- name: enqueue
-- dedupe_key collapses concurrent requests for the same work (one discovery per run).
-- A `call` item of a run with concurrency limits carries the run's keys (run_flow, flow control).
INSERT INTO queue (id, kind, run_id, step_id, step_name, attempt, available_at, dedupe_key,
    payload, created_at, ck1, ck1_limit, ck2, ck2_limit)
SELECT %(id)s, %(kind)s, %(run_id)s, %(step_id)s, %(step_name)s, %(attempt)s, %(available_at)s, %(dedupe_key)s, %(payload)s, %(now)s,
    f.ck1, f.ck1_limit, f.ck2, f.ck2_limit
FROM (SELECT 1 AS one) AS one LEFT JOIN run_flow f ON f.run_id = %(run_id)s AND %(kind)s = 'call'
WHERE true
ON CONFLICT (dedupe_key) DO NOTHING;

-- name: lease_due
-- Leases due items: the lease expiry becomes their available_at. SKIP LOCKED lets several
-- processes lease at once without ever leasing the same item twice.
UPDATE queue SET available_at = %(lease_until)s, leased_by = %(owner)s
WHERE id IN (
    SELECT id FROM queue WHERE available_at <= %(now)s ORDER BY available_at LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING id, kind, run_id, step_id, step_name, attempt, payload;

-- name: next_due
SELECT MIN(available_at) AS at FROM queue;

-- name: delete_item
DELETE FROM queue WHERE id = %(id)s;

-- name: reschedule_item
-- Hands an item back to the queue for later (retry, or its lease given up).
UPDATE queue SET attempt = %(attempt)s, available_at = %(available_at)s, leased_by = NULL
WHERE id = %(id)s;

-- name: set_item_attempt
UPDATE queue SET attempt = %(attempt)s WHERE id = %(id)s;

-- name: renew_leases
UPDATE queue SET available_at = %(lease_until)s WHERE leased_by = %(owner)s AND id = %(id)s;

-- name: release_all_leases
-- At start-up of the only process on this database, leases of a dead predecessor are void.
-- (Never run on a shared database: the worker calls it only when the connector is exclusive.)
UPDATE queue SET available_at = %(now)s, leased_by = NULL WHERE leased_by IS NOT NULL;

-- name: count_queue
SELECT COUNT(*) AS n FROM queue;

-- name: delete_by_dedupe_key
DELETE FROM queue WHERE dedupe_key = %(dedupe_key)s;

-- name: ping
-- Is the database reachable?
SELECT 1 AS ok;
