-- Defers (issue 16, domain.defers): reported by the SDK while the run runs, turned into
-- `inngest/deferred.schedule` events by the transaction that ends it.

-- name: add_defer
-- A running run's DeferAdd, at most :max_defers per run; a resend, or an id aborted already,
-- changes nothing. The history entry follows only when the defer was added.
INSERT INTO run_defers (run_id, hashed_id, userland_id, fn_slug, input, meta, status, added_at)
SELECT :run_id, :hashed_id, :userland_id, :fn_slug, :input, :meta, 'live', :now
WHERE EXISTS (SELECT 1 FROM runs WHERE id = :run_id AND status = 'Running')
  AND (SELECT COUNT(*) FROM run_defers WHERE run_id = :run_id) < :max_defers
ON CONFLICT (run_id, hashed_id) DO NOTHING;
INSERT INTO history (run_id, at, kind, data) VALUES (:run_id, :now, 'defer.added', :history_data);

-- name: abort_defer
-- A DeferAbort: the live defer becomes aborted; one not seen yet is recorded aborted, so that a
-- later DeferAdd of it cannot revive it. The history entry follows only on a change.
INSERT INTO run_defers (run_id, hashed_id, userland_id, fn_slug, input, status, added_at)
SELECT :run_id, :hashed_id, :userland_id, :fn_slug, '{}', 'aborted', :now
WHERE EXISTS (SELECT 1 FROM runs WHERE id = :run_id AND status = 'Running')
ON CONFLICT (run_id, hashed_id) DO UPDATE SET status = 'aborted'
WHERE run_defers.status = 'live';
INSERT INTO history (run_id, at, kind, data)
VALUES (:run_id, :now, 'defer.aborted', :history_data);

-- name: live_defers
SELECT hashed_id, userland_id, fn_slug, input FROM run_defers
WHERE run_id = :run_id AND status = 'live' ORDER BY added_at, hashed_id;

-- name: mark_defer_scheduled
UPDATE run_defers SET status = 'scheduled', event_id = :event_id
WHERE run_id = :run_id AND hashed_id = :hashed_id AND status = 'live';
INSERT INTO history (run_id, at, kind, data)
VALUES (:run_id, :now, 'defer.scheduled', :history_data);

-- name: list_run_defers
SELECT hashed_id, userland_id, fn_slug, input, status, added_at, event_id FROM run_defers
WHERE run_id = :run_id ORDER BY added_at, hashed_id;

-- name: prune_run_defers
DELETE FROM run_defers WHERE run_id = :run_id;
