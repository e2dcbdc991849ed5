"""Flow control's store primitives: a limit-aware lease, GCRA buckets, singleton holders.

Each is atomic inside the caller's transaction: on PostgreSQL the rows or keys involved are
locked until commit (advisory locks per concurrency key, `FOR UPDATE` on buckets and
singletons), on SQLite the single writer serializes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mainspring import codec
from mainspring.domain.ids import new_ulid
from mainspring.domain.queue import Kind, QueueItem, discovery_key
from mainspring.flow import concurrency
from mainspring.store.base import Row, Tx

# How many due items one lease looks at per free worker slot: room to skip items held back by a
# limit without a second round trip.
CANDIDATES_PER_SLOT = 4
MIN_CANDIDATES = 16
Slots = tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Leased:
    items: list[QueueItem]
    next_due: int | None  # the next item that becomes due after now
    blocked: bool  # due items were left behind (held back by a concurrency limit)


def _slots(row: Row) -> Slots:
    pairs = ((row["ck1"], row["ck1_limit"]), (row["ck2"], row["ck2_limit"]))
    return tuple((key, int(limit)) for key, limit in pairs if key is not None)


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


def lease(tx: Tx, *, owner: str, now: int, lease_until: int, limit: int) -> Leased:
    """Lease up to `limit` due items, never more calls in flight per key than its limit."""
    rows = tx.fetchall(
        "flow_lease_candidates",
        {"now": now, "limit": max(MIN_CANDIDATES, limit * CANDIDATES_PER_SLOT)},
    )
    candidates = [concurrency.Candidate(row["id"], _slots(row)) for row in rows]
    keys = sorted({key for candidate in candidates for key, _ in candidate.slots})
    in_use: dict[str, int] = {}
    if keys:
        # Sorted: one lock order for every process, so leases cannot deadlock on keys.
        tx.fetchone("flow_lock_keys", {"keys": codec.dumps(keys)})
        in_use = {row["k"]: int(row["n"]) for row in tx.fetchall("flow_slots_in_use", {"now": now})}
    chosen, blocked = concurrency.admit(concurrency.fair_order(candidates), in_use, limit)
    by_id = {row["id"]: row for row in rows}
    items = [_item(by_id[item_id]) for item_id in chosen]
    if chosen:
        params = {"ids": codec.dumps(chosen), "owner": owner, "lease_until": lease_until}
        tx.write("flow_lease_items", params)
    outlook = tx.fetchone("flow_queue_outlook", {"now": now})
    assert outlook is not None  # a query of two aggregates always has its row
    if len(items) < limit and not blocked:
        # Items of saturated keys were not even candidates: are any due items left behind?
        blocked = outlook["due"] is not None
    return Leased(items, outlook["at"], blocked)


def set_run_slots(tx: Tx, run_id: str, slots: Slots, function_slug: str) -> None:
    """Remember a run's concurrency keys; its later `call` items copy them at enqueue. The
    function's own keys take its live override, read in this transaction (issue 19)."""
    tx.write("flow_insert_run_keys", {"run_id": run_id, **_columns(slots, function_slug)})


def forget_run(tx: Tx, run_id: str) -> None:
    tx.write("flow_delete_run_keys", {"run_id": run_id})


def place_discovery(
    tx: Tx, run_id: str, available_at: int, slots: Slots, function_slug: str
) -> None:
    """Set the first call's start time and keys (the run was created before they were known)."""
    params = {"dedupe_key": discovery_key(run_id), "available_at": available_at}
    tx.write("flow_place_discovery", {**params, **_columns(slots, function_slug)})


def _columns(slots: Slots, function_slug: str) -> dict[str, Any]:
    padded = list(slots) + [(None, None)] * (2 - len(slots))
    (ck1, lim1), (ck2, lim2) = padded[:2]
    return {
        "ck1": ck1,
        "ck1_limit": lim1,
        "ck1_own": _own(ck1),
        "ck2": ck2,
        "ck2_limit": lim2,
        "ck2_own": _own(ck2),
        "slug": function_slug,
    }


def _own(key: str | None) -> bool:
    """A key of the function itself (scope fn), which a live override re-limits."""
    return key is not None and key.startswith(concurrency.OWN_PREFIX)


def lock_bucket(tx: Tx, key: str) -> tuple[int | None, list[int]]:
    """A key's throttle TAT and rate-limit log, locked until commit (None, [] when new)."""
    tx.execute("flow_ensure_bucket", {"key": key})
    row = tx.fetchone("flow_lock_bucket", {"key": key})
    if row is None:
        return None, []
    tat = None if row["tat"] is None else int(row["tat"])
    return tat, [] if row["state"] is None else list(codec.loads(row["state"]))


def set_bucket(tx: Tx, key: str, *, tat: int | None = None, log: list[int] | None = None) -> None:
    state = None if log is None else codec.dumps(log)
    tx.write("flow_set_bucket", {"key": key, "tat": tat, "state": state})


def lock_singleton(tx: Tx, key: str) -> tuple[str | None, bool]:
    """(holder run id, whether it is still running), locked until commit."""
    tx.execute("flow_ensure_singleton", {"key": key})
    row = tx.fetchone("flow_lock_singleton", {"key": key})
    if row is None or row["run_id"] is None:
        return None, False
    return row["run_id"], row["status"] == "Running"


def set_singleton(tx: Tx, key: str, run_id: str) -> None:
    tx.write("flow_set_singleton", {"key": key, "run_id": run_id})


def insert_skipped_run(
    tx: Tx,
    *,
    function_id: str,
    function_slug: str,
    event_internal_id: str,
    reason: str,
    now: int,
) -> str:
    """A run flow control did not start; listed with status Skipped and the reason."""
    run_id = new_ulid()
    tx.write(
        "flow_insert_skipped_run",
        {
            "id": run_id,
            "function_id": function_id,
            "function_slug": function_slug,
            "event_id": event_internal_id,
            "event_ids": codec.dumps([event_internal_id]),
            "output": codec.dumps({"skipped": reason}),
            "now": now,
        },
    )
    return run_id


@dataclass(frozen=True, slots=True)
class Pending:
    key: str
    function_slug: str
    event_ids: list[str]
    first_at: int
    fire_at: int

    @property
    def is_new(self) -> bool:
        return not self.event_ids


def _pending(row: Row) -> Pending:
    return Pending(
        key=row["key"],
        function_slug=row["function_slug"],
        event_ids=list(codec.loads(row["event_ids"])),
        first_at=int(row["first_at"]),
        fire_at=int(row["fire_at"]),
    )


def lock_pending(tx: Tx, key: str, function_slug: str, now: int) -> Pending:
    """The events collected under a debounce/batch key, locked until commit (created empty)."""
    tx.execute("flow_ensure_pending", {"key": key, "function_slug": function_slug, "now": now})
    row = tx.fetchone("flow_lock_pending", {"key": key})
    assert row is not None
    return _pending(row)


def find_pending(tx: Tx, key: str) -> Pending | None:
    row = tx.fetchone("flow_lock_pending", {"key": key})
    return None if row is None else _pending(row)


def set_pending(tx: Tx, key: str, event_ids: list[str], fire_at: int) -> None:
    tx.write(
        "flow_set_pending", {"key": key, "event_ids": codec.dumps(event_ids), "fire_at": fire_at}
    )


def delete_pending(tx: Tx, key: str) -> None:
    tx.write("flow_delete_pending", {"key": key})


def move_timer(tx: Tx, dedupe_key: str, available_at: int) -> None:
    tx.write("flow_move_timer", {"dedupe_key": dedupe_key, "available_at": available_at})


def set_run_events(tx: Tx, run_id: str, event_ids: list[str]) -> None:
    tx.write("flow_set_run_events", {"id": run_id, "event_ids": codec.dumps(event_ids)})
