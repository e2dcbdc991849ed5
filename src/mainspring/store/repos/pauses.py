"""Pauses: create them indexed, find the ones an incoming event satisfies, consume them.

Where a pause's expression is an equality between the incoming event (`async`) and a value known
when the pause is created (a literal, or a field of the run's trigger `event`), the pause is
stored under that value, so an incoming event finds it by one index look-up instead of every
waiting expression being evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from mainspring import codec, errors, expressions
from mainspring.store.base import Row, Tx

FOREVER_MS = 366 * 24 * 3600 * 1000
CANDIDATES_MEMO = "pause_candidates"  # Tx.memo: event name -> its pause_candidates rows

# The indexable shapes: `event.x == async.y` (either order), `async.y == literal` (either order).
_PATH = r"((?:\.[A-Za-z_][A-Za-z0-9_]*)+)"
_PATHS = re.compile(rf"^\s*(event|async){_PATH}\s*==\s*(event|async){_PATH}\s*$")
_LITERAL = r"(\"[^\"\\]*\"|'[^'\\]*'|-?\d+|true|false)"
_ASYNC_EQ_LITERAL = re.compile(rf"^\s*async{_PATH}\s*==\s*{_LITERAL}\s*$")
_LITERAL_EQ_ASYNC = re.compile(rf"^\s*{_LITERAL}\s*==\s*async{_PATH}\s*$")


@dataclass(frozen=True, slots=True)
class Key:
    """The pause matches an event whose `field` (dotted path) holds the value encoded in `value`."""

    field: str
    value: str


def lookup(document: Any, path: str) -> Any:
    """The value at a dotted path (`data.user.id`), or None when absent."""
    current = document
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def encode(value: Any) -> str | None:
    """Index key of a scalar; None for values CEL equality would not treat plainly."""
    if isinstance(value, bool | int | str) and not (isinstance(value, int) and abs(value) > 2**53):
        return orjson.dumps(value).decode()
    return None


def _literal(text: str) -> Any:
    if text[0] == "'":
        return text[1:-1]
    return orjson.loads(text)


def index_key(expression: str | None, trigger_event: dict[str, Any]) -> Key | None:
    """The equality key of an expression, if it has the indexable shape."""
    if not expression:
        return None
    match = _PATHS.match(expression)
    if match:
        left, left_path, right, right_path = match.groups()
        if {left, right} != {"event", "async"}:
            return None
        event_path, async_path = (
            (left_path, right_path) if left == "event" else (right_path, left_path)
        )
        value = encode(lookup(trigger_event, event_path[1:]))
        return None if value is None else Key(async_path[1:], value)
    for pattern, path_group, literal_group in (
        (_ASYNC_EQ_LITERAL, 1, 2),
        (_LITERAL_EQ_ASYNC, 2, 1),
    ):
        match = pattern.match(expression)
        if match:
            value = encode(_literal(match.group(literal_group)))
            return None if value is None else Key(match.group(path_group)[1:], value)
    return None


def matches(
    expression: str | None, trigger_event: dict[str, Any], incoming: dict[str, Any]
) -> bool:
    """An unindexed pause: no expression matches every event of the name."""
    if not expression:
        return True
    try:
        return expressions.evaluate_bool(expression, {"event": trigger_event, "async": incoming})
    except errors.InvalidInput:  # a pause stored before waits' expressions were checked
        return False


@dataclass(frozen=True, slots=True)
class Pause:
    id: str
    run_id: str
    kind: str  # "wait" | "invoke" | "cancel"
    step_id: str | None
    step_name: str | None
    event_name: str
    taken: bool = False  # consumed already, by the statement that found it


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
    key = index_key(expression, trigger_event)
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


def _pause(row: Row, *, taken: bool = False) -> Pause:
    return Pause(
        id=row["id"],
        run_id=row["run_id"],
        kind=row["kind"],
        step_id=row["step_id"],
        step_name=row["step_name"],
        event_name=row["event_name"],
        taken=taken,
    )


def take_satisfied(
    tx: Tx, event: dict[str, Any], now: int, candidates: list[Row] | None = None
) -> list[Pause]:
    """Pauses the event satisfies: indexed look-ups first, then the few unindexed expressions.

    Indexed pauses are consumed by the statement that finds them (`Pause.taken`): whoever
    finds one applies it, and a second look-up, here or in another process, no longer sees it.

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
        value = encode(lookup(event, field))
        if value is None:
            continue
        rows = tx.fetchall(
            "take_pauses_by_key",
            {"event_name": name, "match_field": field, "match_key": value, "now": now},
        )
        rows.sort(key=lambda row: (row["created_at"], row["id"]))  # oldest first
        found.extend(_pause(row, taken=True) for row in rows)
    for row in candidates:
        if row["id"] is None:
            continue
        trigger = codec.loads(row["trigger_event"]) or {}
        if matches(row["expression"], trigger, event):
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
