"""Queue items: enqueue, lease, reschedule, finish."""

from __future__ import annotations

from typing import Any

from mainspring import codec
from mainspring.domain.ids import new_ulid
from mainspring.domain.queue import Kind, QueueItem, discovery_key
from mainspring.store.base import Row, Tx

CHANNEL = "mainspring_queue"  # NOTIFY channel: new work is ready


def enqueue(
    tx: Tx,
    *,
    kind: Kind,
    run_id: str,
    available_at: int,
    now: int,
    step_id: str | None = None,
    step_name: str | None = None,
    attempt: int = 0,
    dedupe_key: str | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Add an item; False when an item with the same dedupe key already exists.

    Other processes sharing the database hear of it at commit (NOTIFY on PostgreSQL).
    """
    added = (
        tx.execute(
            "enqueue",
            {
                "id": new_ulid(),
                "kind": kind.value,
                "run_id": run_id,
                "step_id": step_id,
                "step_name": step_name,
                "attempt": attempt,
                "available_at": available_at,
                "dedupe_key": dedupe_key,
                "payload": None if payload is None else codec.dumps(payload),
                "now": now,
            },
        )
        == 1
    )
    if added:
        tx.announce(CHANNEL)
    return added


def enqueue_discovery(tx: Tx, run_id: str, available_at: int, now: int) -> bool:
    return enqueue(
        tx,
        kind=Kind.CALL,
        run_id=run_id,
        available_at=available_at,
        now=now,
        dedupe_key=discovery_key(run_id),
    )


def enqueue_pause_timeout(
    tx: Tx, run_id: str, step_id: str, step_name: str | None, pause_id: str, at: int, now: int
) -> bool:
    """The timer that ends a wait (for an event or a signal) unanswered at `at`: one per step."""
    return enqueue(
        tx,
        kind=Kind.PAUSE_TIMEOUT,
        run_id=run_id,
        available_at=at,
        now=now,
        step_id=step_id,
        step_name=step_name,
        dedupe_key=f"pause-timeout:{run_id}:{step_id}",
        payload={"pause_id": pause_id},
    )


def _item(row: Row) -> QueueItem:
    return QueueItem(
        id=row["id"],
        kind=Kind(row["kind"]),
        run_id=row["run_id"],
        step_id=row["step_id"],
        step_name=row["step_name"],
        attempt=row["attempt"],
        payload=codec.loads(row["payload"]),
    )


def lease_due(tx: Tx, *, owner: str, now: int, lease_until: int, limit: int) -> list[QueueItem]:
    rows = tx.fetchall(
        "lease_due", {"owner": owner, "now": now, "lease_until": lease_until, "limit": limit}
    )
    return [_item(row) for row in rows]


def next_due(tx: Tx) -> int | None:
    row = tx.fetchone("next_due")
    return None if row is None else row["at"]


def delete(tx: Tx, item_id: str) -> None:
    tx.write("delete_item", {"id": item_id})


def reschedule(tx: Tx, item_id: str, *, attempt: int, available_at: int) -> None:
    tx.write("reschedule_item", {"id": item_id, "attempt": attempt, "available_at": available_at})


def set_attempt(tx: Tx, item_id: str, attempt: int) -> None:
    tx.write("set_item_attempt", {"id": item_id, "attempt": attempt})


def renew_leases(tx: Tx, owner: str, item_ids: list[str], lease_until: int) -> None:
    for item_id in sorted(item_ids):  # one lock order everywhere: fewer deadlocks
        tx.write("renew_leases", {"owner": owner, "id": item_id, "lease_until": lease_until})


def release_all_leases(tx: Tx, now: int) -> int:
    return tx.execute("release_all_leases", {"now": now})


def count(tx: Tx) -> int:
    row = tx.fetchone("count_queue")
    return 0 if row is None else int(row["n"])


def delete_by_dedupe_key(tx: Tx, dedupe_key: str) -> None:
    tx.write("delete_by_dedupe_key", {"dedupe_key": dedupe_key})


def ping(tx: Tx) -> bool:
    return tx.fetchone("ping") is not None
