"""Deleting old data in small batches (one short write transaction each)."""

from __future__ import annotations

from mainspring.store.base import Tx

_RUN_TABLES = (
    "prune_run_steps",
    "prune_run_history",
    "prune_run_pending",
    "prune_run_pauses",
    "prune_run_queue",
    "prune_run_origin",
    "prune_run_metadata",
    "prune_run_spans",
    "prune_run_defers",
    "prune_run",
)


def prune_runs(tx: Tx, upper: str, limit: int) -> int:
    """Delete up to `limit` ended runs whose id is below `upper`; returns how many."""
    run_ids = [row["id"] for row in tx.fetchall("prunable_runs", {"upper": upper, "limit": limit})]
    for run_id in run_ids:
        for name in _RUN_TABLES:
            tx.write(name, {"run_id": run_id})
    return len(run_ids)


def prune_events(tx: Tx, cutoff: int, limit: int) -> int:
    rows = tx.fetchall("prunable_events", {"cutoff": cutoff, "limit": limit})
    for row in rows:
        tx.write("prune_event", {"internal_id": row["internal_id"]})
    return len(rows)


def prune_expired_keys(tx: Tx, now: int, cutoff: int, limit: int) -> int:
    params = {"now": now, "cutoff": cutoff, "limit": limit}
    return (
        tx.execute("prune_event_ids", params)
        + tx.execute("prune_run_keys", params)
        + tx.execute("prune_replays", params)
    )
