-- name: server_secret_get
SELECT secret FROM server_secrets WHERE name = %(name)s;

-- name: server_secret_put
-- The first process to make the secret wins; the others read the winner's.
INSERT INTO server_secrets (name, secret, created_at) VALUES (%(name)s, %(secret)s, %(now)s)
ON CONFLICT (name) DO NOTHING;
