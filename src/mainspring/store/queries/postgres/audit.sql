-- The audit log: written in the transaction of the action it records, read newest first.

-- name: insert_audit_entry
INSERT INTO audit_log (id, at, actor, action, target_kind, target_id, reason, details)
VALUES (%(id)s, %(at)s, %(actor)s, %(action)s, %(target_kind)s, %(target_id)s, %(reason)s, %(details)s);

-- name: audit_page
-- Each filter is optional (NULL matches everything); the id range walks the primary key, and
-- an index of a given filter serves it when the planner prefers.
SELECT id, at, actor, action, target_kind, target_id, reason, details FROM audit_log
WHERE id >= %(lower)s AND id < %(upper)s
  AND (CAST(%(action)s AS TEXT) IS NULL OR action = %(action)s)
  AND (CAST(%(actor)s AS TEXT) IS NULL OR actor = %(actor)s)
  AND (CAST(%(target)s AS TEXT) IS NULL OR target_id = %(target)s)
ORDER BY id DESC LIMIT %(limit)s;

-- name: prune_audit_entries
DELETE FROM audit_log WHERE id IN (
    SELECT id FROM audit_log WHERE id < %(upper)s ORDER BY id LIMIT %(limit)s
);
