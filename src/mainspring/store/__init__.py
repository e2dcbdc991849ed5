"""Durable state. `open_connector(url)` picks the connector by the URL's scheme."""

from __future__ import annotations

from mainspring.store.base import Connector


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def redact_url(url: str) -> str:
    """A database URL fit for logs: the password, if any, is masked."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        masked = f"{user}:***" if ":" in credentials else user
        return f"{scheme}{sep}{masked}@{host}"
    return url


def open_connector(url: str) -> Connector:
    """`postgresql://…` for PostgreSQL; `sqlite:///path` or a bare path for SQLite."""
    if is_postgres(url):
        from mainspring.store.postgres import (
            PostgresConnector,
        )  # only PostgreSQL users load psycopg

        return PostgresConnector(url)
    from mainspring.store.sqlite import SqliteConnector

    return SqliteConnector(url.removeprefix("sqlite:///").removeprefix("sqlite://"))
