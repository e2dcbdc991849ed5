-- name: list_environments
SELECT name, kind, created_at, active_at, archived_at FROM environments ORDER BY name;

-- name: add_environment
-- A new environment, or an archived one back (a configured one stays configured).
INSERT INTO environments (name, kind, created_at, active_at, archived_at)
VALUES (%(name)s, %(kind)s, %(now)s, %(now)s, NULL)
ON CONFLICT (name) DO UPDATE SET archived_at = NULL, active_at = excluded.active_at,
    kind = CASE WHEN environments.kind = 'configured' THEN 'configured' ELSE excluded.kind END;

-- name: touch_environment
-- Activity (a sync, an event) through a process that still serves it brings an archived one
-- back: another process may have archived it a moment before.
UPDATE environments SET active_at = %(now)s, archived_at = NULL
WHERE name = %(name)s AND active_at < %(now)s;

-- name: archive_idle_environments
-- Branch environments idle since `cutoff`; answers the names archived.
UPDATE environments SET archived_at = %(now)s
WHERE kind = 'branch' AND archived_at IS NULL AND active_at < %(cutoff)s
RETURNING name;

-- name: global_kill_switch
SELECT reason, requested_by, since FROM global_kill_switch WHERE id = 1;

-- name: set_global_kill_switch
INSERT INTO global_kill_switch (id, reason, requested_by, since)
VALUES (1, %(reason)s, %(requested_by)s, %(now)s) ON CONFLICT (id) DO NOTHING;

-- name: clear_global_kill_switch
DELETE FROM global_kill_switch WHERE id = 1;
