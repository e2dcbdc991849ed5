"""Secrets the server makes once per database (never logged, never served)."""

from __future__ import annotations

from mainspring.store.base import Tx


def get_or_create(tx: Tx, name: str, candidate: str, now: int) -> str:
    """The stored secret `name`; `candidate` becomes it when there is none yet (first wins)."""
    tx.execute("server_secret_put", {"name": name, "secret": candidate, "now": now})
    row = tx.fetchone("server_secret_get", {"name": name})
    assert row is not None, "a secret just inserted (or kept) is there"
    return str(row["secret"])
