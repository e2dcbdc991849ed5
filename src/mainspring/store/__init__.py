"""Durable state. `open_connector(url)` picks the connector by the URL's scheme."""

from __future__ import annotations

from mainspring.store.base import Connector, PubSub
from mainspring.store.urls import redact_url as redact_url


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def open_connector(url: str) -> Connector:
    """`postgresql://…` for PostgreSQL; `sqlite:///path` or a bare path for SQLite."""
    if is_postgres(url):
        from mainspring.store.postgres import (
            PostgresConnector,
        )  # only PostgreSQL users load psycopg

        return PostgresConnector(url)
    from mainspring.store.sqlite import SqliteConnector

    return SqliteConnector(url.removeprefix("sqlite:///").removeprefix("sqlite://"))


def open_pubsub(url: str) -> PubSub | None:
    """Messages between processes on one PostgreSQL database; None for SQLite (one process)."""
    if not is_postgres(url):
        return None
    from mainspring.store.pg_pubsub import PgPubSub

    return PgPubSub(url)
