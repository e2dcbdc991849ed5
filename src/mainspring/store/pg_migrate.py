"""PostgreSQL migrations: applied in order under an advisory lock, so several processes
starting at once migrate once."""

from __future__ import annotations

from mainspring.store import sql_files
from mainspring.store.pg_connect import connect as _connect

MIGRATION_LOCK_ID = 0x6D61696E  # "main": one migrator at a time across processes


def migrate(url: str) -> list[str]:
    """Apply missing migrations under an advisory lock; returns the names applied."""
    applied = []
    with _connect(url) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT)"
            )
            done = {row["version"] for row in conn.execute("SELECT version FROM schema_migrations")}
            for version, name, script in sql_files.load_migrations("postgres"):
                if version in done:
                    continue
                with conn.transaction():
                    for statement in sql_files.split_script(script):
                        conn.execute(statement.encode())
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (version, name),
                    )
                applied.append(name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))
    return applied


def pending_migrations(url: str) -> list[str]:
    with _connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('schema_migrations') AS t").fetchone()
        done: set[int] = set()
        if exists and exists["t"]:
            done = {row["version"] for row in conn.execute("SELECT version FROM schema_migrations")}
    return [
        name for version, name, _ in sql_files.load_migrations("postgres") if version not in done
    ]
