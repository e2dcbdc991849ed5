-- name: insert_event_key
INSERT INTO event_keys (id, name, key_hash, created_at, revoked_at)
VALUES (:id, :name, :key_hash, :now, NULL);

-- name: list_event_keys
SELECT id, name, key_hash, created_at, revoked_at FROM event_keys ORDER BY created_at, id;

-- name: active_event_key_hashes
SELECT key_hash FROM event_keys WHERE revoked_at IS NULL;

-- name: revoke_event_key
-- By id or by name; revoking twice is a no-op that changes no row.
UPDATE event_keys SET revoked_at = :now
WHERE (id = :ref OR name = :ref) AND revoked_at IS NULL;

-- name: insert_api_token
INSERT INTO api_tokens (id, name, token_hash, scope, created_at, revoked_at)
VALUES (:id, :name, :token_hash, :scope, :now, NULL);

-- name: list_api_tokens
SELECT id, name, token_hash, scope, created_at, revoked_at FROM api_tokens ORDER BY created_at, id;

-- name: active_api_tokens
SELECT token_hash, scope, name FROM api_tokens WHERE revoked_at IS NULL;

-- name: revoke_api_token
UPDATE api_tokens SET revoked_at = :now
WHERE (id = :ref OR name = :ref) AND revoked_at IS NULL;
