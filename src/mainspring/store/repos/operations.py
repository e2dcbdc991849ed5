"""Operator state: paused functions, the kill switch, parked queue items, replays, alert states."""

from __future__ import annotations

from typing import Any

from mainspring import codec
from mainspring.domain.queue import Kind, QueueItem
from mainspring.store.base import Row, Tx

# The due time of a held (parked) queue item: far beyond any real instant, so it is never leased
# and costs nothing until a resume brings it back to now.
PARKED_AT = 9_000_000_000_000_000


def hold_counts(tx: Tx) -> tuple[bool, int]:
    """(kill switch active, number of paused functions)."""
    row = tx.fetchone("hold_state")
    if row is None:
        return False, 0
    return bool(row["killed"]), int(row["paused"])


def paused_slugs(tx: Tx) -> set[str]:
    return {row["function_slug"] for row in tx.fetchall("list_function_pauses")}


def list_pauses(tx: Tx) -> list[Row]:
    return tx.fetchall("list_function_pauses")


def get_pause(tx: Tx, slug: str) -> Row | None:
    return tx.fetchone("get_function_pause", {"slug": slug})


def pause(tx: Tx, slug: str, reason: str | None, requested_by: str | None, now: int) -> bool:
    """True when the function was running and is paused now."""
    params = {"slug": slug, "reason": reason, "requested_by": requested_by, "now": now}
    added = tx.execute("insert_function_pause", params) == 1
    if added:
        tx.announce("mainspring_operations")
    return added


def unpause(tx: Tx, slug: str) -> bool:
    removed = tx.execute("delete_function_pause", {"slug": slug}) == 1
    if removed:
        tx.announce("mainspring_operations")
    return removed


def kill_switch(tx: Tx) -> Row | None:
    return tx.fetchone("get_kill_switch")


def activate_kill_switch(tx: Tx, reason: str | None, requested_by: str | None, now: int) -> bool:
    params = {"reason": reason, "requested_by": requested_by, "now": now}
    added = tx.execute("insert_kill_switch", params) == 1
    if added:
        tx.announce("mainspring_operations")
    return added


def deactivate_kill_switch(tx: Tx) -> bool:
    removed = tx.execute("delete_kill_switch") == 1
    if removed:
        tx.announce("mainspring_operations")
    return removed


def function_of_run(tx: Tx, run_id: str) -> str | None:
    row = tx.fetchone("run_function", {"id": run_id})
    return None if row is None else str(row["function_slug"])


def park(tx: Tx, item: QueueItem) -> None:
    tx.write("park_item", {"id": item.id, "parked": PARKED_AT})


def unpark_function(tx: Tx, slug: str, now: int) -> int:
    count = tx.execute("unpark_function_items", {"slug": slug, "now": now, "parked": PARKED_AT})
    if count:
        tx.announce("mainspring_queue")
    return count


def unpark_all(tx: Tx, now: int) -> int:
    count = tx.execute("unpark_all_items", {"now": now, "parked": PARKED_AT})
    if count:
        tx.announce("mainspring_queue")
    return count


def unstarted_runs(tx: Tx, slug: str | None, since: int) -> list[str]:
    if slug is None:
        rows = tx.fetchall("unstarted_runs", {"since": since})
    else:
        rows = tx.fetchall("unstarted_runs_of_function", {"slug": slug, "since": since})
    return [row["id"] for row in rows]


def claim_replay(
    tx: Tx, replay_id: str, idempotency_key: str | None, request: Any, now: int
) -> bool:
    params = {
        "id": replay_id,
        "idempotency_key": idempotency_key,
        "request": codec.dumps(request),
        "now": now,
    }
    return tx.execute("claim_replay", params) == 1


def set_replay_runs(tx: Tx, replay_id: str, run_ids: list[str]) -> None:
    tx.execute("set_replay_runs", {"id": replay_id, "run_ids": codec.dumps(run_ids)})


def replay_by_key(tx: Tx, idempotency_key: str) -> Row | None:
    return tx.fetchone("get_replay_by_key", {"idempotency_key": idempotency_key})


def get_replay(tx: Tx, replay_id: str) -> Row | None:
    return tx.fetchone("get_replay", {"id": replay_id})


def add_origin(tx: Tx, run_id: str, original_run_id: str, replay_id: str | None) -> None:
    params = {"run_id": run_id, "original_run_id": original_run_id, "replay_id": replay_id}
    tx.write("insert_run_origin", params)


def origin(tx: Tx, run_id: str) -> Row | None:
    return tx.fetchone("get_run_origin", {"run_id": run_id})


def replay_candidates(
    tx: Tx, slug: str, status: str, lower: str, upper: str, limit: int
) -> list[str]:
    params = {"slug": slug, "status": status, "lower": lower, "upper": upper, "limit": limit}
    return [row["id"] for row in tx.fetchall("replay_candidates", params)]


def alert_states(tx: Tx) -> list[Row]:
    return tx.fetchall("get_alert_states")


def save_alert_state(tx: Tx, rule: str, firing: bool, since: int, detail: Any) -> None:
    params = {
        "rule": rule,
        "firing": 1 if firing else 0,
        "since": since,
        "detail": codec.dumps(detail),
    }
    tx.write("upsert_alert_state", params)


def alert_deliveries(tx: Tx) -> list[Row]:
    return tx.fetchall("get_alert_deliveries")


def save_alert_delivery(
    tx: Tx, rule: str, channel: str, announced: bool, fired_at: int | None, suppressed: int
) -> None:
    params = {
        "rule": rule,
        "channel": channel,
        "announced": 1 if announced else 0,
        "fired_at": fired_at,
        "suppressed": suppressed,
    }
    tx.write("upsert_alert_delivery", params)


def is_call(item: QueueItem) -> bool:
    """Only CALL items make SDK calls; sleeps and timers just queue calls, which are then held."""
    return item.kind is Kind.CALL


def insert_rerun(tx: Tx, run_id: str, original_run_id: str, now: int) -> bool:
    params = {"id": run_id, "original_run_id": original_run_id, "now": now}
    return tx.execute("insert_rerun", params) == 1


def copy_steps_before(tx: Tx, run_id: str, original_run_id: str, seq: int) -> None:
    params = {"run_id": run_id, "original_run_id": original_run_id, "seq": seq}
    tx.write("copy_steps_before", params)


def run_jobs(tx: Tx, run_id: str) -> list[Row]:
    return tx.fetchall("run_jobs", {"run_id": run_id})


def run_held(tx: Tx, run_id: str) -> bool:
    return tx.fetchone("run_held", {"run_id": run_id, "parked": PARKED_AT}) is not None


def durability_in_effect(tx: Tx) -> str:
    """What this connection's commits survive, read back from the database: "process" or
    "power" (the setting `--durability` asked for, as the database applies it)."""
    row = tx.fetchone("durability_in_effect")
    assert row is not None  # a constant query always answers
    return str(row["durability"])
