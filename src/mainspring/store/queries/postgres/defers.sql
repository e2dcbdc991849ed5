-- Defers (issue 16, domain.defers): reported by the SDK while the run runs, turned into
-- `inngest/deferred.schedule` events by the transaction that ends it.

-- name: add_defer
-- A running run's DeferAdd, at most %(max_defers)s per run; a resend, or an id aborted already,
-- changes nothing. The history entry is written only when the defer was added (rowcount 1).
WITH added AS (
    INSERT INTO run_defers (run_id, hashed_id, userland_id, fn_slug, input, meta, status,
        added_at)
    SELECT %(run_id)s, %(hashed_id)s, %(userland_id)s, %(fn_slug)s, %(input)s, %(meta)s, 'live',
        %(now)s
    WHERE EXISTS (SELECT 1 FROM runs WHERE id = %(run_id)s AND status = 'Running')
      AND (SELECT COUNT(*) FROM run_defers WHERE run_id = %(run_id)s) < %(max_defers)s
    ON CONFLICT (run_id, hashed_id) DO NOTHING
    RETURNING run_id
)
INSERT INTO history (run_id, at, kind, data)
SELECT run_id, %(now)s, 'defer.added', %(history_data)s FROM added;

-- name: abort_defer
-- A DeferAbort: the live defer becomes aborted; one not seen yet is recorded aborted, so that a
-- later DeferAdd of it cannot revive it. The history entry is written only on a change.
WITH aborted AS (
    INSERT INTO run_defers (run_id, hashed_id, userland_id, fn_slug, input, status, added_at)
    SELECT %(run_id)s, %(hashed_id)s, %(userland_id)s, %(fn_slug)s, '{}', 'aborted', %(now)s
    WHERE EXISTS (SELECT 1 FROM runs WHERE id = %(run_id)s AND status = 'Running')
    ON CONFLICT (run_id, hashed_id) DO UPDATE SET status = 'aborted'
    WHERE run_defers.status = 'live'
    RETURNING run_id
)
INSERT INTO history (run_id, at, kind, data)
SELECT run_id, %(now)s, 'defer.aborted', %(history_data)s FROM aborted;

-- name: live_defers
SELECT hashed_id, userland_id, fn_slug, input FROM run_defers
WHERE run_id = %(run_id)s AND status = 'live' ORDER BY added_at, hashed_id;

-- name: mark_defer_scheduled
WITH scheduled AS (
    UPDATE run_defers SET status = 'scheduled', event_id = %(event_id)s
    WHERE run_id = %(run_id)s AND hashed_id = %(hashed_id)s AND status = 'live'
    RETURNING run_id
)
INSERT INTO history (run_id, at, kind, data)
SELECT run_id, %(now)s, 'defer.scheduled', %(history_data)s FROM scheduled;

-- name: list_run_defers
SELECT hashed_id, userland_id, fn_slug, input, status, added_at, event_id FROM run_defers
WHERE run_id = %(run_id)s ORDER BY added_at, hashed_id;

-- name: prune_run_defers
DELETE FROM run_defers WHERE run_id = %(run_id)s;
