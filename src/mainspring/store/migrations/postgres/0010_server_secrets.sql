-- Secrets the server makes for itself, once per database, shared by every process on it
-- (issue 16: the key that signs realtime subscription tokens in dev mode).
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
