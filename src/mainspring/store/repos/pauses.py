"""Pauses: create them indexed, find the ones an incoming event satisfies, consume them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mainspring import codec, pauses
from mainspring.store.base import Row, Tx

FOREVER_MS = 366 * 24 * 3600 * 1000
CANDIDATES_MEMO = "pause_candidates"  # Tx.memo: event name -> its pause_candidates rows


@dataclass(frozen=True, slots=True)
class Pause:
    id: str
    run_id: str
    kind: str  # "wait" | "invoke" | "cancel"
    step_id: str | None
    step_name: str | None
    event_name: str


def create(
    tx: Tx,
    *,
    pause_id: str,
    run_id: str,
    kind: str,
    event_name: str,
    expression: str | None,
    trigger_event: dict[str, Any],
    expires_at: int,
    now: int,
    step_id: str | None = None,
    step_name: str | None = None,
) -> None:
    tx.memo.pop(CANDIDATES_MEMO, None)  # a look-up made earlier in this transaction lacks it
    key = pauses.index_key(expression, trigger_event)
    if key is not None:
        tx.write("remember_pause_field", {"event_name": event_name, "match_field": key.field})
    tx.write(
        "insert_pause",
        {
            "id": pause_id,
            "run_id": run_id,
            "kind": kind,
            "step_id": step_id,
            "step_name": step_name,
            "event_name": event_name,
            "match_field": None if key is None else key.field,
            "match_key": None if key is None else key.value,
            "expression": None if key is not None else expression,
            "trigger_event": None if key is not None else codec.dumps(trigger_event),
            "expires_at": expires_at,
            "now": now,
        },
    )


def _pause(row: Row) -> Pause:
    return Pause(
        id=row["id"],
        run_id=row["run_id"],
        kind=row["kind"],
        step_id=row["step_id"],
        step_name=row["step_name"],
        event_name=row["event_name"],
    )


def satisfied_by(
    tx: Tx, event: dict[str, Any], now: int, candidates: list[Row] | None = None
) -> list[Pause]:
    """Pauses the event satisfies: indexed look-ups first, then the few unindexed expressions.

    `candidates` are the event name's rows of `pause_candidates`, when the caller fetched them
    already (`prefetch_candidates`)."""
    name = event["name"]
    if candidates is None:
        candidates = tx.fetchall("pause_candidates", {"event_name": name, "now": now})
    found: list[Pause] = []
    for row in candidates:
        field = row["match_field"]
        if field is None:
            continue
        value = pauses.encode(pauses.lookup(event, field))
        if value is None:
            continue
        rows = tx.fetchall(
            "pauses_by_key",
            {"event_name": name, "match_field": field, "match_key": value, "now": now},
        )
        found.extend(_pause(row) for row in rows)
    for row in candidates:
        if row["id"] is None:
            continue
        trigger = codec.loads(row["trigger_event"]) or {}
        if pauses.matches(row["expression"], trigger, event):
            found.append(_pause(row))
    return found


def prefetch_candidates(tx: Tx, names: set[str], now: int) -> dict[str, list[Row]]:
    """`pause_candidates` of several event names in one round trip, by name.

    Kept for the rest of the transaction (until a pause is created in it): the runs of a
    batch that end each emit `inngest/function.finished`, and one look-up serves them all.
    A pause consumed meanwhile may still be listed; consuming it again fails, so it is
    skipped."""
    known: dict[str, list[Row]] = tx.memo.setdefault(CANDIDATES_MEMO, {})
    missing = names - known.keys()
    if missing:
        fetched: dict[str, list[Row]] = {name: [] for name in missing}
        rows = tx.fetchall(
            "pause_candidates_of_names", {"names": codec.dumps(sorted(missing)), "now": now}
        )
        for row in rows:
            fetched[row["event_name"]].append(row)
        known.update(fetched)
    return {name: known[name] for name in names}


def get(tx: Tx, pause_id: str) -> Pause | None:
    row = tx.fetchone("get_pause", {"id": pause_id})
    return None if row is None else _pause(row)


def consume(tx: Tx, pause_id: str) -> bool:
    """Remove a pause; False if another event or its timeout consumed it first."""
    return tx.execute("delete_pause", {"id": pause_id}) == 1
