"""`mainspring migrate`: print, check or apply the schema of the database a URL names."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mainspring import errors
from mainspring.store import is_postgres, sql_files


def _dialect(url: str) -> str:
    return "postgres" if is_postgres(url) else "sqlite"


def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///").removeprefix("sqlite://")


def ddl(url: str) -> str:
    """Every migration of the URL's dialect, in order, without connecting."""
    parts = []
    for _, name, script in sql_files.load_migrations(_dialect(url)):
        parts.append(f"-- {name}\n{script.strip()}\n")
    return "\n".join(parts)


def pending(url: str) -> list[str]:
    if is_postgres(url):
        import psycopg

        from mainspring.store import pg_migrate

        try:
            return pg_migrate.pending_migrations(url)
        except psycopg.OperationalError as exc:
            raise errors.StoreError(f"cannot reach the database: {exc}") from None
    path = Path(_sqlite_path(url))
    done: set[int] = set()
    if path.exists():
        with sqlite3.connect(path) as conn:
            table = conn.execute(
                "SELECT name FROM sqlite_master WHERE name = 'schema_migrations'"
            ).fetchone()
            if table:
                done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    return [name for version, name, _ in sql_files.load_migrations("sqlite") if version not in done]


def apply(url: str) -> list[str]:
    before = pending(url)
    if is_postgres(url):
        from mainspring.store import pg_migrate

        return pg_migrate.migrate(url)
    from mainspring.store.sqlite import SqliteConnector

    connector = SqliteConnector(_sqlite_path(url))
    import asyncio

    asyncio.run(connector.close())
    return before
