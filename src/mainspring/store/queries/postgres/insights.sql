-- Numbers for /v1/health, /v1/metrics/functions/{id}, /metrics and alert rules. Windows are
-- bounds on run ids (ULIDs are time-ordered), so each query reads one index range.

-- name: function_status_counts
SELECT status, COUNT(*) AS n FROM runs
WHERE function_slug = %(slug)s AND id >= %(lower)s GROUP BY status;

-- name: function_durations
-- Durations of the newest finished runs in the window (ms), for percentiles.
SELECT ended_at - started_at AS d FROM runs
WHERE function_slug = %(slug)s AND id >= %(lower)s AND started_at IS NOT NULL AND ended_at IS NOT NULL
ORDER BY id DESC LIMIT %(limit)s;

-- name: function_attempts
SELECT COUNT(*) AS steps, COALESCE(SUM(s.attempts), 0) AS attempts
FROM runs r JOIN steps s ON s.run_id = r.id
WHERE r.function_slug = %(slug)s AND r.id >= %(lower)s;

-- name: status_counts_by_function
SELECT function_slug, status, COUNT(*) AS n FROM runs WHERE id >= %(lower)s
GROUP BY function_slug, status;

-- name: last_success
SELECT ended_at FROM runs WHERE function_slug = %(slug)s AND status = 'Completed'
ORDER BY id DESC LIMIT 1;

-- name: dead_letter_count
-- Failed runs in the window that nobody has rerun yet.
SELECT COUNT(*) AS n FROM runs r
WHERE r.status = 'Failed' AND r.id >= %(lower)s
  AND NOT EXISTS (SELECT 1 FROM run_origins o WHERE o.original_run_id = r.id);

-- name: queue_stats
-- Depth, ready items (due, not leased), the oldest ready item's due time, held (parked) items.
SELECT COUNT(*) AS depth,
    COALESCE(SUM(CASE WHEN available_at <= %(now)s AND leased_by IS NULL THEN 1 ELSE 0 END), 0)
        AS ready,
    MIN(CASE WHEN available_at <= %(now)s AND leased_by IS NULL THEN available_at END) AS oldest_ready,
    COALESCE(SUM(CASE WHEN available_at = %(parked)s THEN 1 ELSE 0 END), 0) AS held
FROM queue;

-- name: recent_outcomes
-- The newest finished runs of a function, newest first (Completed or Failed; cancelled ones are
-- neither a success nor a failure), for the "failing N times in a row" rule.
SELECT status FROM runs
WHERE function_slug = %(slug)s AND status IN ('Completed', 'Failed')
ORDER BY id DESC LIMIT %(limit)s;
