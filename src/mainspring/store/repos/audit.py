"""The audit log's rows: one per operator action, keyed by a ULID of its instant."""

from __future__ import annotations

from typing import Any

from mainspring.store.base import Row, Tx


def insert(tx: Tx, row: dict[str, Any]) -> None:
    """`row` holds every column (`details` already JSON text)."""
    tx.write("insert_audit_entry", row)


def page(
    tx: Tx,
    *,
    action: str | None,
    actor: str | None,
    target: str | None,
    lower: str,
    upper: str,
    limit: int,
) -> list[Row]:
    """Entries with id in [lower, upper) matching every given filter, newest first."""
    params = {
        "action": action,
        "actor": actor,
        "target": target,
        "lower": lower,
        "upper": upper,
        "limit": limit,
    }
    return tx.fetchall("audit_page", params)


def prune(tx: Tx, upper: str, limit: int) -> int:
    """Delete up to `limit` entries whose id is below `upper`; returns how many."""
    return tx.execute("prune_audit_entries", {"upper": upper, "limit": limit})
