-- Live overrides of flow control (issue 19): one row per function slug.

-- name: override_upsert
INSERT INTO function_overrides (function_slug, config, concurrency, updated_by, updated_at)
VALUES (%(slug)s, %(config)s, %(concurrency)s, %(updated_by)s, %(now)s)
ON CONFLICT (function_slug) DO UPDATE SET config = excluded.config, concurrency = excluded.concurrency,
    updated_by = excluded.updated_by, updated_at = excluded.updated_at;

-- name: override_delete
DELETE FROM function_overrides WHERE function_slug = %(slug)s;

-- name: override_relimit_queue
-- Items of the function's own concurrency keys (`fn:<id>`, `fn:<id>:<key>`) take the new
-- limits at once, queued and in flight alike: the next lease counts against them. An admin
-- action: it may scan the queue.
UPDATE queue SET
    ck1_limit = CASE WHEN ck1 = %(key)s THEN %(whole)s
        WHEN substr(ck1, 1, length(%(prefix)s)) = %(prefix)s THEN %(keyed)s ELSE ck1_limit END,
    ck2_limit = CASE WHEN ck2 = %(key)s THEN %(whole)s
        WHEN substr(ck2, 1, length(%(prefix)s)) = %(prefix)s THEN %(keyed)s ELSE ck2_limit END
WHERE ck1 = %(key)s OR substr(ck1, 1, length(%(prefix)s)) = %(prefix)s
    OR ck2 = %(key)s OR substr(ck2, 1, length(%(prefix)s)) = %(prefix)s;

-- name: override_relimit_runs
-- The same for the keys runs keep for their later calls (run_flow, copied at enqueue).
UPDATE run_flow SET
    ck1_limit = CASE WHEN ck1 = %(key)s THEN %(whole)s
        WHEN substr(ck1, 1, length(%(prefix)s)) = %(prefix)s THEN %(keyed)s ELSE ck1_limit END,
    ck2_limit = CASE WHEN ck2 = %(key)s THEN %(whole)s
        WHEN substr(ck2, 1, length(%(prefix)s)) = %(prefix)s THEN %(keyed)s ELSE ck2_limit END
WHERE ck1 = %(key)s OR substr(ck1, 1, length(%(prefix)s)) = %(prefix)s
    OR ck2 = %(key)s OR substr(ck2, 1, length(%(prefix)s)) = %(prefix)s;
