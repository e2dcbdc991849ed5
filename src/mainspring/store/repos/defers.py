"""A run's defers (`domain.defers`): added and aborted while it runs, scheduled when it ends."""

from __future__ import annotations

from typing import Any

from mainspring import codec
from mainspring.domain import defers
from mainspring.store.base import Tx


def _history(defer: defers.Defer) -> str:
    return codec.dumps(
        {"id": defer.userland_id, "hashed_id": defer.hashed_id, "function": defer.fn_slug}
    )


def add(tx: Tx, run_id: str, defer: defers.DeferAdd, now: int) -> None:
    """Record a running run's defer (a resend, an aborted id or one past the cap: nothing)."""
    tx.write(
        "add_defer",
        {
            "run_id": run_id,
            "hashed_id": defer.hashed_id,
            "userland_id": defer.userland_id,
            "fn_slug": defer.fn_slug,
            "input": codec.dumps(defer.input),
            "meta": None if defer.meta is None else codec.dumps(defer.meta),
            "now": now,
            "max_defers": defers.MAX_DEFERS_PER_RUN,
            "history_data": _history(defer),
        },
    )


def abort(tx: Tx, run_id: str, defer: defers.DeferAbort, now: int) -> None:
    tx.write(
        "abort_defer",
        {
            "run_id": run_id,
            "hashed_id": defer.hashed_id,
            "userland_id": defer.userland_id,
            "fn_slug": defer.fn_slug,
            "now": now,
            "history_data": _history(defer),
        },
    )


def live(tx: Tx, run_id: str) -> list[dict[str, Any]]:
    """The defers still live, inputs decoded, in the order they were added."""
    rows = tx.fetchall("live_defers", {"run_id": run_id})
    return [{**row, "input": codec.loads(row["input"])} for row in rows]


def mark_scheduled(tx: Tx, run_id: str, row: dict[str, Any], event_id: str, now: int) -> None:
    """The defer's schedule event (internal id `event_id`) is stored in this transaction."""
    history = {
        "id": row["userland_id"],
        "hashed_id": row["hashed_id"],
        "function": row["fn_slug"],
        "event_id": event_id,
    }
    tx.write(
        "mark_defer_scheduled",
        {
            "run_id": run_id,
            "hashed_id": row["hashed_id"],
            "event_id": event_id,
            "now": now,
            "history_data": codec.dumps(history),
        },
    )


def list_for_run(tx: Tx, run_id: str) -> list[dict[str, Any]]:
    rows = tx.fetchall("list_run_defers", {"run_id": run_id})
    return [{**row, "input": codec.loads(row["input"])} for row in rows]
