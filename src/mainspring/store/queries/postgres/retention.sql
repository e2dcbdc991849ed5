-- Retention: old, ended runs (with their steps and history) and old events are deleted in small
-- batches. Running runs are never pruned, nor the events they were started by.

-- name: prunable_runs
SELECT id FROM runs WHERE id < %(upper)s AND status <> 'Running' ORDER BY id LIMIT %(limit)s;

-- name: prune_run_steps
DELETE FROM steps WHERE run_id = %(run_id)s;

-- name: prune_run_history
DELETE FROM history WHERE run_id = %(run_id)s;

-- name: prune_run_pending
DELETE FROM pending_steps WHERE run_id = %(run_id)s;

-- name: prune_run_pauses
DELETE FROM pauses WHERE run_id = %(run_id)s;

-- name: prune_run_queue
DELETE FROM queue WHERE run_id = %(run_id)s;

-- name: prune_run_origin
DELETE FROM run_origins WHERE run_id = %(run_id)s;

-- name: prune_run
DELETE FROM runs WHERE id = %(run_id)s;

-- name: prunable_events
SELECT e.internal_id FROM events e
WHERE e.received_at < %(cutoff)s
  AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.event_id = e.internal_id AND r.status = 'Running')
ORDER BY e.received_at LIMIT %(limit)s;

-- name: prune_event
DELETE FROM events WHERE internal_id = %(internal_id)s;

-- name: prune_event_ids
DELETE FROM event_ids WHERE id IN (SELECT id FROM event_ids WHERE expires_at < %(now)s LIMIT %(limit)s);

-- name: prune_run_keys
DELETE FROM run_keys WHERE key IN (SELECT key FROM run_keys WHERE expires_at < %(now)s LIMIT %(limit)s);

-- name: prune_replays
DELETE FROM replays WHERE id IN (SELECT id FROM replays WHERE created_at < %(cutoff)s LIMIT %(limit)s);
