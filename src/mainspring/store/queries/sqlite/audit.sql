-- The audit log: written in the transaction of the action it records, read newest first.

-- name: insert_audit_entry
INSERT INTO audit_log (id, at, actor, action, target_kind, target_id, reason, details)
VALUES (:id, :at, :actor, :action, :target_kind, :target_id, :reason, :details);

-- name: audit_page
-- Each filter is optional (NULL matches everything); the id range walks the primary key, and
-- an index of a given filter serves it when the planner prefers.
SELECT id, at, actor, action, target_kind, target_id, reason, details FROM audit_log
WHERE id >= :lower AND id < :upper
  AND (CAST(:action AS TEXT) IS NULL OR action = :action)
  AND (CAST(:actor AS TEXT) IS NULL OR actor = :actor)
  AND (CAST(:target AS TEXT) IS NULL OR target_id = :target)
ORDER BY id DESC LIMIT :limit;

-- name: prune_audit_entries
DELETE FROM audit_log WHERE id IN (
    SELECT id FROM audit_log WHERE id < :upper ORDER BY id LIMIT :limit
);
