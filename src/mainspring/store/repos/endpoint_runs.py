"""Runs of durable endpoints: created by the app's checkpoint, watched by a delayed discovery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mainspring import codec
from mainspring.domain.functions import FunctionDef
from mainspring.domain.ids import new_ulid
from mainspring.domain.queue import Kind, QueueItem, discovery_key
from mainspring.store.base import Tx
from mainspring.store.repos import queue as queue_repo


def create(
    tx: Tx,
    *,
    run_id: str,
    function: FunctionDef,
    event_id: str,
    request_version: int,
    deadline: int,
    history_data: Any,
    now: int,
) -> bool:
    """Create the running run with its discovery item due at `deadline` (the server takes the
    run over then, unless the app's request checkpoints first); False if it exists already."""
    created = tx.execute(
        "create_endpoint_run",
        {
            "id": run_id,
            "function_id": function.id,
            "function_slug": function.slug,
            "event_id": event_id,
            "event_ids": codec.dumps([event_id]),
            "request_version": request_version,
            "history_data": codec.dumps(history_data),
            "item_id": new_ulid(),
            "deadline": deadline,
            "dedupe_key": discovery_key(run_id),
            "now": now,
        },
    )
    if created:
        tx.announce(queue_repo.CHANNEL)
    return created > 0


@dataclass(frozen=True, slots=True)
class RunItem:
    item: QueueItem
    leased: bool  # a call of the run is in flight: the server has taken it over


def run_item(tx: Tx, run_id: str) -> RunItem | None:
    """The run's discovery item, if it has one."""
    row = tx.fetchone("endpoint_run_item", {"dedupe_key": discovery_key(run_id)})
    if row is None:
        return None
    item = QueueItem(
        id=row["id"],
        kind=Kind(row["kind"]),
        run_id=row["run_id"],
        step_id=row["step_id"],
        step_name=row["step_name"],
        attempt=row["attempt"],
        payload=codec.loads(row["payload"]),
    )
    return RunItem(item, leased=row["leased_by"] is not None)


def extend_deadline(tx: Tx, run_id: str, deadline: int) -> None:
    """The app's request checkpointed: keep off the run until `deadline`."""
    params = {"dedupe_key": discovery_key(run_id), "deadline": deadline}
    tx.write("extend_endpoint_deadline", params)
