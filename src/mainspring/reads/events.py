"""Listing events (`GET /v1/events`, GraphQL `eventsV2` and `stream`): by name(s), received in a
window, without the server's own events if asked, with a CEL `query`, cursor-paginated.

The cursor is `<received_at ms>:<internal id>` of the last event looked at; bad parameters raise
InvalidInput naming them. As for runs (`reads.runs`), the CEL query is evaluated here page by
page within a budget, and the cursor goes on where the scan stopped.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mainspring import errors, expressions
from mainspring.domain.durations import parse_instant_ms
from mainspring.reads.filters import ID_CEILING
from mainspring.reads.views import event_view
from mainspring.store.base import Row, Tx
from mainspring.store.repos import events as events_repo

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
FOREVER_MS = 2**62
INTERNAL_PREFIX = "inngest/"  # the server's own events (function.finished, scheduled.timer …)
MAX_SCAN = 5000  # events looked at per request for a CEL query (as `reads.runs`)
SCAN_PAGE = 200
MAX_SCAN_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class EventFilter:
    names: tuple[str, ...] = ()  # any of these names; () is every name
    user_only: bool = False  # leave out the server's own events (`inngest/…`)
    query: str | None = None  # CEL over `event`
    after: int = 0
    before_at: int = FOREVER_MS
    before_id: str = ID_CEILING
    limit: int = DEFAULT_LIMIT


def is_internal(name: str) -> bool:
    return name.startswith(INTERNAL_PREFIX)


def _instant(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    if not text:
        return None
    if text.isdigit():
        return int(text)
    try:
        return parse_instant_ms(text)
    except ValueError:
        raise errors.InvalidInput(f"{name} must be an RFC 3339 time", field=name) from None


def parse_cursor(text: str, field: str = "cursor") -> tuple[int, str]:
    """`<received_at ms>:<internal id>`, as `select` hands it out."""
    at_text, _, internal_id = text.partition(":")
    if not at_text.isdigit() or not internal_id:
        raise errors.InvalidInput(f"{field} is not one this API returned", field=field)
    return int(at_text), internal_id


def parse_event_filter(params: Mapping[str, str]) -> EventFilter:
    """Read `name`, `received_after`, `received_before`, `cursor` and `limit`."""
    limit_text = params.get("limit") or str(DEFAULT_LIMIT)
    if not limit_text.isdigit() or int(limit_text) < 1:
        raise errors.InvalidInput("limit must be a positive integer", field="limit")
    after = _instant(params, "received_after") or 0
    before = _instant(params, "received_before")
    # `received_before` is exclusive: the empty id sorts before every id received at that instant.
    before_at, before_id = (FOREVER_MS, ID_CEILING) if before is None else (before, "")
    cursor = params.get("cursor")
    if cursor:
        at, internal_id = parse_cursor(cursor)
        if (at, internal_id) < (before_at, before_id):
            before_at, before_id = at, internal_id
    name = params.get("name")
    return EventFilter(
        names=(name,) if name else (),
        after=after,
        before_at=before_at,
        before_id=before_id,
        limit=min(int(limit_text), MAX_LIMIT),
    )


def _names(flt: EventFilter) -> tuple[str, ...]:
    return tuple(name for name in flt.names if not (flt.user_only and is_internal(name)))


def _window(flt: EventFilter, before_at: int, before_id: str) -> dict[str, Any]:
    return {"after": flt.after, "before_at": before_at, "before_id": before_id}


def _key(row: Row) -> tuple[int, str]:
    return int(row["received_at"]), str(row["internal_id"])


def _fetch(tx: Tx, flt: EventFilter, before: tuple[int, str], limit: int) -> list[Row]:
    """Newest first, below the `before` (received_at, internal id) bound."""
    params = {**_window(flt, *before), "limit": limit}
    if not flt.names:
        return tx.fetchall("events_page_user" if flt.user_only else "events_page", params)
    rows = [
        row
        for name in _names(flt)
        for row in tx.fetchall("events_page_by_name", {**params, "name": name})
    ]
    rows.sort(key=_key, reverse=True)  # several names: merge their pages
    return rows[:limit]


def _cursor(row: Row) -> str:
    return f"{row['received_at']}:{row['internal_id']}"


def _page(rows: list[Row], cursor: Row | None) -> tuple[list[dict[str, Any]], str | None]:
    return [event_view(events_repo.row_to_event(row)) for row in rows], (
        None if cursor is None else _cursor(cursor)
    )


def select(tx: Tx, flt: EventFilter) -> tuple[list[dict[str, Any]], str | None]:
    """A page of events, newest first, and the cursor of the next page (None at the end)."""
    before = (flt.before_at, flt.before_id)
    if flt.query is None:
        rows = _fetch(tx, flt, before, flt.limit + 1)
        more = len(rows) > flt.limit
        rows = rows[: flt.limit]
        return _page(rows, rows[-1] if more and rows else None)
    found: list[Row] = []
    scanned = 0
    deadline = time.monotonic() + MAX_SCAN_SECONDS
    while True:
        rows = _fetch(tx, flt, before, SCAN_PAGE)
        for row in rows:
            scanned += 1
            before = _key(row)
            if _matches(flt.query, row):
                found.append(row)
                if len(found) == flt.limit:
                    return _page(found, row)
        if len(rows) < SCAN_PAGE:  # nothing older is left
            return _page(found, None)
        if scanned >= MAX_SCAN or time.monotonic() >= deadline:
            return _page(found, rows[-1])


def _matches(query: str, row: Row) -> bool:
    event = event_view(events_repo.row_to_event(row))
    subject = {key: event[key] for key in ("name", "data", "user", "id", "ts", "v")}
    return expressions.evaluate_bool(query, {"event": subject})


def count(tx: Tx, flt: EventFilter) -> int:
    """How many events the filter holds, every page together. With a CEL query, the matches
    among the newest `MAX_SCAN` events looked at within the time budget (a lower bound when
    there are more)."""
    if flt.query is not None:
        deadline = time.monotonic() + MAX_SCAN_SECONDS
        found = 0
        for row in _fetch(tx, flt, (flt.before_at, flt.before_id), MAX_SCAN):
            if time.monotonic() >= deadline:
                break
            found += _matches(flt.query, row)
        return found
    window = _window(flt, flt.before_at, flt.before_id)
    if not flt.names:
        name = "events_count_user" if flt.user_only else "events_count"
        return _number(tx.fetchone(name, window))
    return sum(
        _number(tx.fetchone("events_count_by_name", {**window, "name": name}))
        for name in _names(flt)
    )


def _number(row: Row | None) -> int:
    return 0 if row is None else int(row["n"])
