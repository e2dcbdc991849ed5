-- Run metadata (issue 16): one row per update; the read side rolls them up (domain.metadata).

-- name: insert_run_metadata
-- One update of an existing run, unless it would take the run's metadata past %(cap)s bytes
-- (rowcount 0 then).
INSERT INTO run_metadata (run_id, step_id, span_id, scope, kind, op, data, size, at)
SELECT %(run_id)s, %(step_id)s, %(span_id)s, %(scope)s, %(kind)s, %(op)s, %(data)s, %(size)s,
    %(now)s
WHERE EXISTS (SELECT 1 FROM runs WHERE id = %(run_id)s)
  AND (SELECT COALESCE(SUM(size), 0) FROM run_metadata WHERE run_id = %(run_id)s)
      + %(size)s <= %(cap)s;

-- name: list_run_metadata
SELECT step_id, span_id, scope, kind, op, data, at FROM run_metadata
WHERE run_id = %(run_id)s ORDER BY id;

-- name: prune_run_metadata
DELETE FROM run_metadata WHERE run_id = %(run_id)s;
