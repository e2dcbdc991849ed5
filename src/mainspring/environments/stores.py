"""Where each environment keeps its state: the default one in `--db` itself, another one in a
SQLite file beside it (`dev.db` → `dev.env-staging_1a2b3c4d.db`) or in a PostgreSQL schema of
the same database (`env_staging_1a2b3c4d`, chosen by the connection's `search_path`).

A store per environment makes isolation structural: no query can see another environment's
rows, because none of them is in its database."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import quote, unquote

from mainspring.environments import names
from mainspring.store import is_postgres


@dataclass(frozen=True, slots=True)
class EnvStore:
    url: str  # what the connector opens
    namespace: str  # suffix of NOTIFY channels ("" for the default environment)
    schema: str | None  # the PostgreSQL schema to create before migrating


def store_for(base_url: str, name: str) -> EnvStore:
    if name == names.DEFAULT:
        return EnvStore(base_url, "", None)
    slug = names.slug(name)
    if is_postgres(base_url):
        schema = f"env_{slug}"
        return EnvStore(_with_search_path(base_url, schema), f"_{slug}", schema)
    return EnvStore(_sqlite_beside(base_url, slug), f"_{slug}", None)


def _with_search_path(url: str, schema: str) -> str:
    """The URL with `-c search_path=<schema>` added to its libpq `options`. Edited as text:
    re-serialising would drop the `//` of a socket URL (`postgresql:///db`) and turn a `+` of
    the query (a password) into a space."""
    base, sep, query = url.partition("?")
    parts = query.split("&") if sep else []
    option = f"-c search_path={schema}"
    for n, part in enumerate(parts):
        if part.startswith("options="):
            parts[n] = "options=" + quote(f"{unquote(part[8:])} {option}", safe="")
            break
    else:
        parts.append("options=" + quote(option, safe=""))
    found = f"{base}?{'&'.join(parts)}"
    assert is_postgres(found), "an environment's store is the same database"
    return found


def _sqlite_beside(url: str, slug: str) -> str:
    prefix = "sqlite:///" if url.startswith("sqlite:///") else ""
    path = url.removeprefix("sqlite:///").removeprefix("sqlite://")
    if path in ("", ":memory:"):
        return path  # an in-memory store is one per connector already
    stem, ext = posixpath.splitext(path)
    return f"{prefix}{stem}.env-{slug}{ext or '.db'}"


def create_schema(url: str, schema: str) -> None:
    """The environment's schema, before its migrations run in it (idempotent)."""
    import psycopg

    from mainspring.store.pg_connect import connect

    with connect(url) as conn:
        try:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'.encode())
        except psycopg.errors.UniqueViolation:
            pass  # another process created it at the same moment (IF NOT EXISTS races)
