-- name: insert_event_key
-- `env`: the environment its events go to (the key decides, not the request).
INSERT INTO event_keys (id, name, key_hash, env, created_at, revoked_at)
VALUES (%(id)s, %(name)s, %(key_hash)s, %(env)s, %(now)s, NULL);

-- name: list_event_keys
SELECT id, name, key_hash, env, created_at, revoked_at FROM event_keys ORDER BY created_at, id;

-- name: active_event_keys
SELECT key_hash, env FROM event_keys WHERE revoked_at IS NULL;

-- name: revoke_event_key
-- By id or by name; revoking twice is a no-op that changes no row.
UPDATE event_keys SET revoked_at = %(now)s
WHERE (id = %(ref)s OR name = %(ref)s) AND revoked_at IS NULL;

-- name: insert_api_token
-- `envs`: a JSON list of the environments it may be used in; NULL: all of them.
INSERT INTO api_tokens (id, name, token_hash, scope, envs, created_at, revoked_at)
VALUES (%(id)s, %(name)s, %(token_hash)s, %(scope)s, %(envs)s, %(now)s, NULL);

-- name: list_api_tokens
SELECT id, name, token_hash, scope, envs, created_at, revoked_at FROM api_tokens
ORDER BY created_at, id;

-- name: active_api_tokens
SELECT token_hash, scope, name, envs FROM api_tokens WHERE revoked_at IS NULL;

-- name: revoke_api_token
UPDATE api_tokens SET revoked_at = %(now)s
WHERE (id = %(ref)s OR name = %(ref)s) AND revoked_at IS NULL;
