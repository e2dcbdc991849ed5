"""Listing events (`GET /v1/events`): by name, received in a window, cursor-paginated.

The cursor is `<received_at ms>:<internal id>` of the last event of a page; bad parameters raise
InvalidInput naming them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mainspring import errors
from mainspring.domain.durations import parse_instant_ms
from mainspring.reads.filters import ID_CEILING
from mainspring.reads.views import event_view
from mainspring.store.base import Tx
from mainspring.store.repos import events as events_repo

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
FOREVER_MS = 2**62


@dataclass(frozen=True, slots=True)
class EventFilter:
    name: str | None = None
    after: int = 0
    before_at: int = FOREVER_MS
    before_id: str = ID_CEILING
    limit: int = DEFAULT_LIMIT


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
        at_text, _, internal_id = cursor.partition(":")
        if not at_text.isdigit() or not internal_id:
            raise errors.InvalidInput("cursor is not one this API returned", field="cursor")
        if (int(at_text), internal_id) < (before_at, before_id):
            before_at, before_id = int(at_text), internal_id
    return EventFilter(
        name=params.get("name") or None,
        after=after,
        before_at=before_at,
        before_id=before_id,
        limit=min(int(limit_text), MAX_LIMIT),
    )


def select(tx: Tx, flt: EventFilter) -> tuple[list[dict[str, Any]], str | None]:
    """A page of events, newest first, and the cursor of the next page (None at the end)."""
    params = {
        "name": flt.name,
        "after": flt.after,
        "before_at": flt.before_at,
        "before_id": flt.before_id,
        "limit": flt.limit + 1,
    }
    rows = tx.fetchall("events_page_by_name" if flt.name else "events_page", params)
    more = len(rows) > flt.limit
    rows = rows[: flt.limit]
    cursor = f"{rows[-1]['received_at']}:{rows[-1]['internal_id']}" if more and rows else None
    return [event_view(events_repo.row_to_event(row)) for row in rows], cursor
