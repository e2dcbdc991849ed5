"""Durable state. `open_connector(url)` picks the connector by the URL's scheme."""

from __future__ import annotations

from mainspring.store.base import Connector, PubSub
from mainspring.store.urls import redact_url as redact_url


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def effective_durability(url: str, durability: str | None) -> str:
    """The durability a store at `url` gives when asked for `durability` (None: its default)."""
    return durability or ("power" if is_postgres(url) else "process")


def open_connector(
    url: str, durability: str | None = None, namespace: str = "", *, readers: int | None = None
) -> Connector:
    """`postgresql://…` for PostgreSQL; `sqlite:///path` or a bare path for SQLite.

    `durability` is what a committed write survives: "process" (a killed Mainspring process)
    or "power" (power loss: the commit waits for fsync). None keeps each store's default,
    "process" on SQLite (WAL, synchronous=NORMAL) and "power" on PostgreSQL (its own default,
    synchronous_commit=on). `namespace` suffixes the NOTIFY channels (an environment's own,
    so that processes of one environment do not wake those of another); `readers`, PostgreSQL
    reader connections (None: the default)."""
    if is_postgres(url):
        from mainspring.store.postgres import (
            PostgresConnector,
        )  # only PostgreSQL users load psycopg

        # "process" lets PostgreSQL acknowledge before its WAL flush: a crash of PostgreSQL
        # itself may lose the last moments of commits (a clean restart loses nothing). Not
        # asked: the server's, role's or URL's own setting stands (e.g. remote_apply).
        sync = {"process": "off", "power": "on"}.get(durability or "")
        pool = {} if readers is None else {"readers": readers}
        return PostgresConnector(url, synchronous_commit=sync, namespace=namespace, **pool)
    from mainspring.store.sqlite import SqliteConnector

    path = url.removeprefix("sqlite:///").removeprefix("sqlite://")
    return SqliteConnector(path, synchronous="FULL" if durability == "power" else "NORMAL")


def open_pubsub(url: str, namespace: str = "") -> PubSub | None:
    """Messages between processes on one PostgreSQL database; None for SQLite (one process)."""
    if not is_postgres(url):
        return None
    from mainspring.store.pg_pubsub import PgPubSub

    return PgPubSub(url, namespace)
