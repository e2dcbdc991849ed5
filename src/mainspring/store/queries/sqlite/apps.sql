-- name: get_app_by_name
-- The app registered under an app id (the SDK's appName).
SELECT id, name, url, sdk, framework, checksum, error, synced_at, archived_at FROM apps
WHERE name = :name;

-- name: insert_app
INSERT INTO apps (id, name, url, sdk, framework, checksum, error, synced_at, created_at)
VALUES (:id, :name, :url, :sdk, :framework, :checksum, NULL, :now, :now);

-- name: update_app_sync
-- Records a successful sync (which brings an archived app back).
UPDATE apps SET url = :url, sdk = :sdk, framework = :framework, checksum = :checksum,
    error = NULL, synced_at = :now, archived_at = NULL
WHERE id = :id;

-- name: list_apps
-- The apps not deleted, by name.
SELECT id, name, url, sdk, framework, checksum, error, synced_at, created_at, archived_at FROM apps
WHERE archived_at IS NULL ORDER BY name;

-- name: get_app
-- One app by id, deleted (archived) or not.
SELECT id, name, url, sdk, framework, checksum, error, synced_at, created_at, archived_at FROM apps
WHERE id = :id;

-- name: archive_app
-- Deleting an app: it leaves the app list; its functions are archived with it.
UPDATE apps SET archived_at = :now WHERE id = :id AND archived_at IS NULL;

-- name: archive_app_functions
-- Before a sync re-declares an app's functions, every function of the app is archived.
UPDATE functions SET archived_at = :now WHERE app_id = :app_id AND archived_at IS NULL;

-- name: upsert_function
-- A function keeps its id across syncs by slug.
INSERT INTO functions (id, app_id, slug, name, config, archived_at, updated_at)
VALUES (:id, :app_id, :slug, :name, :config, NULL, :now)
ON CONFLICT (slug) DO UPDATE SET app_id = excluded.app_id, name = excluded.name,
    config = excluded.config, archived_at = NULL, updated_at = excluded.updated_at;

-- name: list_active_functions
SELECT f.id, f.app_id, f.slug, f.name, f.config, a.name AS app_name,
    o.config AS overrides, o.updated_at AS overrides_at, o.updated_by AS overrides_by
FROM functions f JOIN apps a ON a.id = f.app_id
LEFT JOIN function_overrides o ON o.function_slug = f.slug
WHERE f.archived_at IS NULL ORDER BY f.slug;

-- name: get_function_by_slug
-- One function by slug, archived or not (a run's function after its app was deleted).
SELECT f.id, f.app_id, f.slug, f.name, f.config, a.name AS app_name,
    o.config AS overrides, o.updated_at AS overrides_at, o.updated_by AS overrides_by
FROM functions f JOIN apps a ON a.id = f.app_id
LEFT JOIN function_overrides o ON o.function_slug = f.slug
WHERE f.slug = :slug;
