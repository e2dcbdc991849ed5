"""The server's environments and the kill switch of all of them (default store only)."""

from __future__ import annotations

from mainspring.store.base import Row, Tx

CHANNEL = "mainspring_environments"  # NOTIFY: an environment was added, archived or held


def list_environments(tx: Tx) -> list[Row]:
    return tx.fetchall("list_environments")


def add_environment(tx: Tx, name: str, kind: str, now: int) -> None:
    tx.execute("add_environment", {"name": name, "kind": kind, "now": now})
    tx.announce(CHANNEL)


def touch(tx: Tx, names: list[str], now: int) -> None:
    for name in names:
        tx.execute("touch_environment", {"name": name, "now": now})


def archive_idle(tx: Tx, cutoff: int, now: int) -> list[str]:
    names = [
        str(row["name"])
        for row in tx.fetchall("archive_idle_environments", {"cutoff": cutoff, "now": now})
    ]
    if names:
        tx.announce(CHANNEL)
    return names


def global_kill_switch(tx: Tx) -> Row | None:
    return tx.fetchone("global_kill_switch")


def set_global_kill_switch(tx: Tx, reason: str | None, requested_by: str | None, now: int) -> None:
    tx.execute(
        "set_global_kill_switch", {"reason": reason, "requested_by": requested_by, "now": now}
    )
    tx.announce(CHANNEL)


def clear_global_kill_switch(tx: Tx) -> None:
    tx.execute("clear_global_kill_switch")
    tx.announce(CHANNEL)
