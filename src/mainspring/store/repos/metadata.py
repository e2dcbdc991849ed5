"""Run metadata updates (`domain.metadata`): appended as they come, read in arrival order."""

from __future__ import annotations

from typing import Any

from mainspring import codec
from mainspring.domain import metadata
from mainspring.store.base import Tx


def _params(run_id: str, update: metadata.Update, now: int) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "step_id": update.step_id,
        "span_id": update.span_id,
        "scope": update.scope,
        "kind": update.kind,
        "op": update.op,
        "data": codec.dumps(update.values),
        "size": update.size,
        "now": now,
        "cap": metadata.MAX_RUN_BYTES,
    }


def add(tx: Tx, run_id: str, update: metadata.Update, now: int) -> bool:
    """Store one update; False when the run does not exist or it would pass the run's cap."""
    return tx.execute("insert_run_metadata", _params(run_id, update, now)) == 1


def add_later(tx: Tx, run_id: str, update: metadata.Update, now: int) -> None:
    """`add` without waiting for the answer (an SDK's opcode metadata: refused ones are
    dropped, as Inngest drops them)."""
    tx.write("insert_run_metadata", _params(run_id, update, now))


def list_for_run(tx: Tx, run_id: str) -> list[dict[str, Any]]:
    """Every update of the run in arrival order, values decoded (for `metadata.roll_up`)."""
    return [
        {**row, "values": codec.loads(row["data"])}
        for row in tx.fetchall("list_run_metadata", {"run_id": run_id})
    ]
