"""Durable state. `open_store(url)` picks the connector by the URL's scheme."""

from __future__ import annotations

from mainspring import errors
from mainspring.store.base import Connector


def open_connector(url: str) -> Connector:
    """`sqlite:///path`, a bare path, or (later) `postgresql://…`."""
    if url.startswith(("postgres://", "postgresql://")):
        raise errors.ConfigError("PostgreSQL is not supported yet; use a SQLite path")
    path = url.removeprefix("sqlite:///").removeprefix("sqlite://")
    from mainspring.store.sqlite import SqliteConnector

    return SqliteConnector(path)
