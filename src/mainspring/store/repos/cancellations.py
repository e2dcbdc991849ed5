"""Bulk cancellation records."""

from __future__ import annotations

from mainspring.store.base import Row, Tx


def insert(
    tx: Tx,
    *,
    cancellation_id: str,
    app_id: str | None,
    function_slug: str,
    started_after: int,
    started_before: int,
    expression: str | None,
    cancelled: int,
    now: int,
) -> Row:
    tx.execute(
        "insert_cancellation",
        {
            "id": cancellation_id,
            "app_id": app_id,
            "function_slug": function_slug,
            "started_after": started_after,
            "started_before": started_before,
            "expression": expression,
            "cancelled": cancelled,
            "now": now,
        },
    )
    row = tx.fetchone("get_cancellation", {"id": cancellation_id})
    assert row is not None
    return row


def list_all(tx: Tx, limit: int) -> list[Row]:
    return tx.fetchall("list_cancellations", {"limit": limit})


def delete(tx: Tx, cancellation_id: str) -> bool:
    return tx.execute("delete_cancellation", {"id": cancellation_id}) == 1
