"""Events: dedupe by sender id, persist, start the runs matched beforehand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mainspring import codec
from mainspring.domain.events import Event
from mainspring.domain.events import NewEvent as NewEvent  # the input type, for callers
from mainspring.store.base import Row, Tx

DEDUPE_WINDOW_MS = 24 * 3600 * 1000


@dataclass(slots=True)
class StoredEvents:
    ids: list[str]
    inserted: set[str]


def insert_params(event: NewEvent, now: int) -> dict[str, Any]:
    """The `insert_event` parameters of an event."""
    payload = event.payload
    return {
        "internal_id": event.internal_id,
        "id": payload["id"],
        "name": payload["name"],
        "data": codec.dumps(payload["data"]),
        "user": codec.dumps(payload.get("user") or {}),
        "ts": payload["ts"],
        "v": payload.get("v"),
        "received_at": now,
    }


def store_events(
    tx: Tx, events: list[NewEvent], now: int, stored_already: frozenset[str] = frozenset()
) -> StoredEvents:
    """Persist events; an id seen in the window maps to the first event (stored once).

    `stored_already`: internal ids of events without a sender id that the caller's own
    statement inserted (a run's `inngest/function.finished`, with the run's end)."""
    ids: list[str] = []
    inserted_ids: set[str] = set()
    for event in events:
        if event.internal_id in stored_already and event.sender_id is None:
            ids.append(event.internal_id)
            inserted_ids.add(event.internal_id)
            continue
        if event.sender_id is not None:
            seen = tx.fetchone("find_event_id", {"id": event.sender_id, "now": now})
            if seen is not None:
                ids.append(seen["internal_id"])
                continue
            tx.write(
                "remember_event_id",
                {
                    "id": event.sender_id,
                    "internal_id": event.internal_id,
                    "expires_at": now + DEDUPE_WINDOW_MS,
                },
            )
        ids.append(event.internal_id)
        params = insert_params(event, now)
        if not event.seeded:  # a fresh id cannot collide: do not wait for the answer
            tx.write("insert_event", params)
            inserted_ids.add(event.internal_id)
        elif tx.execute("insert_event", params):  # else a resend with the same seed: stored
            inserted_ids.add(event.internal_id)
    return StoredEvents(ids=ids, inserted=inserted_ids)


def row_to_event(row: Row) -> Event:
    return Event(
        internal_id=row["internal_id"],
        id=row["id"],
        name=row["name"],
        data=codec.loads(row["data"]),
        user=codec.loads(row["user"]),
        ts=row["ts"],
        v=row["v"],
        received_at=row["received_at"],
    )


def get_event(tx: Tx, internal_id: str) -> Event | None:
    row = tx.fetchone("get_event", {"internal_id": internal_id})
    return None if row is None else row_to_event(row)


def get_events(tx: Tx, internal_ids: list[str]) -> list[Event]:
    """Several events by internal id in one query (unknown ids are left out; no order)."""
    if not internal_ids:
        return []
    rows = tx.fetchall("get_events", {"ids": codec.dumps(internal_ids)})
    return [row_to_event(row) for row in rows]


def events_since(tx: Tx, name: str, since: int, limit: int) -> list[Event]:
    """Events named `name` received at or after `since`, oldest first."""
    rows = tx.fetchall("events_since", {"name": name, "since": since, "limit": limit})
    return [row_to_event(row) for row in rows]


def list_events(tx: Tx, name: str | None, limit: int) -> list[Event]:
    if name:
        rows = tx.fetchall("list_events_by_name", {"name": name, "limit": limit})
    else:
        rows = tx.fetchall("list_events", {"limit": limit})
    return [row_to_event(row) for row in rows]
