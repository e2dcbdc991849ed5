-- Live overrides of flow control (issue 19): one row per function slug.

-- name: override_upsert
INSERT INTO function_overrides (function_slug, config, concurrency, updated_by, updated_at)
VALUES (:slug, :config, :concurrency, :updated_by, :now)
ON CONFLICT (function_slug) DO UPDATE SET config = excluded.config, concurrency = excluded.concurrency,
    updated_by = excluded.updated_by, updated_at = excluded.updated_at;

-- name: override_delete
DELETE FROM function_overrides WHERE function_slug = :slug;

-- name: override_relimit_queue
-- Items of the function's own concurrency keys (`fn:<id>`, `fn:<id>:<key>`) take the new
-- limits at once, queued and in flight alike: the next lease counts against them. An admin
-- action: it may scan the queue.
UPDATE queue SET
    ck1_limit = CASE WHEN ck1 = :key THEN :whole
        WHEN substr(ck1, 1, length(:prefix)) = :prefix THEN :keyed ELSE ck1_limit END,
    ck2_limit = CASE WHEN ck2 = :key THEN :whole
        WHEN substr(ck2, 1, length(:prefix)) = :prefix THEN :keyed ELSE ck2_limit END
WHERE ck1 = :key OR substr(ck1, 1, length(:prefix)) = :prefix
    OR ck2 = :key OR substr(ck2, 1, length(:prefix)) = :prefix;

-- name: override_relimit_runs
-- The same for the keys runs keep for their later calls (run_flow, copied at enqueue).
UPDATE run_flow SET
    ck1_limit = CASE WHEN ck1 = :key THEN :whole
        WHEN substr(ck1, 1, length(:prefix)) = :prefix THEN :keyed ELSE ck1_limit END,
    ck2_limit = CASE WHEN ck2 = :key THEN :whole
        WHEN substr(ck2, 1, length(:prefix)) = :prefix THEN :keyed ELSE ck2_limit END
WHERE ck1 = :key OR substr(ck1, 1, length(:prefix)) = :prefix
    OR ck2 = :key OR substr(ck2, 1, length(:prefix)) = :prefix;
