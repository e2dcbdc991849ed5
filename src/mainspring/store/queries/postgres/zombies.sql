-- name: find_zombie_runs
-- Running runs with nothing that will ever call them again: no call or sleep item (leased,
-- due later or parked alike), no wait or invoke pause, and no change (history) since
-- `settled_before`. A run-timeout item only ends the run, a pause-timeout item acts only while
-- its pause exists, a cancel pause wakes nobody: none of them counts. Walks runs by
-- (status, id); each test is an index probe.
SELECT r.id, r.function_slug FROM runs r
WHERE r.status = 'Running' AND r.created_at < %(settled_before)s
  AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.run_id = r.id AND q.kind IN ('call', 'sleep'))
  AND NOT EXISTS (SELECT 1 FROM pauses p WHERE p.run_id = r.id AND p.kind <> 'cancel')
  AND NOT EXISTS (
    SELECT 1 FROM history h WHERE h.run_id = r.id AND h.at >= %(settled_before)s)
ORDER BY r.id
LIMIT %(limit)s;

-- name: zombie_run
-- The same test for one run, asked after `lock_run`: of two processes repairing it at once, the
-- second asks after the first committed, and sees its discovery item.
SELECT r.id FROM runs r
WHERE r.id = %(id)s AND r.status = 'Running'
  AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.run_id = r.id AND q.kind IN ('call', 'sleep'))
  AND NOT EXISTS (SELECT 1 FROM pauses p WHERE p.run_id = r.id AND p.kind <> 'cancel');

-- name: clear_pending_steps
-- A repaired run's discovery plans again whatever is still outstanding.
DELETE FROM pending_steps WHERE run_id = %(run_id)s;
