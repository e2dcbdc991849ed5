"""Listing runs with filters, cursor pagination and a CEL `query` over the triggering event.

Filters that an index serves (status, function, app, time window, cursor) run in SQL; the CEL
query is evaluated here over `event` (`{name, data, id, ts}`) page by page, scanning at most
`MAX_SCAN` runs (and `MAX_SCAN_SECONDS`) per request; the answer's cursor continues where the
scan stopped, so a client can always page on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from mainspring import codec, expressions
from mainspring.reads.filters import RunFilter, scopes
from mainspring.reads.views import run_list_view
from mainspring.store.base import Row, Tx
from mainspring.store.repos import run_lists as run_lists_repo

MAX_SCAN = 5000
SCAN_PAGE = 200  # small enough that the time budget is checked often
# Time budget of one CEL scan: cel-python takes ~0.13 ms per run, so 5000 runs would be ~0.7 s;
# the Runs page must answer in < 200 ms with 100,000 runs stored (bench/bench_dashboard.py).
MAX_SCAN_SECONDS = 0.1  # plus at most one page (~26 ms) and rendering: margin under load


@dataclass(frozen=True, slots=True)
class RunPage:
    runs: list[dict[str, Any]]
    cursor: str | None  # pass as `cursor` for the next page; None when there is no more
    scanned: int


def _event(row: Row) -> dict[str, Any]:
    return {
        "name": row["event_name"],
        "data": codec.loads(row["event_data"]) if row["event_data"] is not None else {},
        "id": row["event_sender_id"],
        "ts": row["event_ts"],
    }


def _merged(pages: list[list[Row]], limit: int) -> list[Row]:
    """Several statuses, functions or apps: each page is newest first; keep the newest `limit`
    overall."""
    rows = [row for page in pages for row in page]
    rows.sort(key=lambda row: str(row["id"]), reverse=True)
    return rows[:limit]


def fetch(tx: Tx, flt: RunFilter, upper: str, limit: int) -> list[Row]:
    statuses: tuple[str | None, ...] = flt.statuses or (None,)
    pages = [
        run_lists_repo.page(
            tx, status=status, slug=slug, app=app, lower=flt.lower_id, upper=upper, limit=limit
        )
        for status in statuses
        for slug, app in scopes(flt)
    ]
    return pages[0] if len(pages) == 1 else _merged(pages, limit)


def count(tx: Tx, flt: RunFilter) -> int:
    """How many runs match `flt` in its id window (a filter built without a cursor counts every
    page together). With a CEL query, the matches among the newest `MAX_SCAN` runs looked at
    within the time budget (a lower bound when there are more)."""
    if flt.query is not None:
        deadline = time.monotonic() + MAX_SCAN_SECONDS
        found = 0
        for row in fetch(tx, flt, flt.upper_id, MAX_SCAN):
            if time.monotonic() >= deadline:
                break
            found += expressions.evaluate_bool(flt.query, {"event": _event(row)})
        return found
    statuses: tuple[str | None, ...] = flt.statuses or (None,)
    return sum(
        run_lists_repo.count(
            tx, status=status, slug=slug, app=app, lower=flt.lower_id, upper=flt.upper_id
        )
        for status in statuses
        for slug, app in scopes(flt)
    )


def select(tx: Tx, flt: RunFilter) -> RunPage:
    """One page of runs matching `flt` (one database snapshot)."""
    if flt.query is None:
        rows = fetch(tx, flt, flt.upper_id, flt.limit + 1)
        more = len(rows) > flt.limit
        rows = rows[: flt.limit]
        cursor = rows[-1]["id"] if more and rows else None
        return RunPage([run_list_view(row) for row in rows], cursor, len(rows))
    found: list[Row] = []
    upper, scanned = flt.upper_id, 0
    deadline = time.monotonic() + MAX_SCAN_SECONDS
    while True:
        rows = fetch(tx, flt, upper, SCAN_PAGE)
        for row in rows:
            scanned += 1
            upper = row["id"]
            if expressions.evaluate_bool(flt.query, {"event": _event(row)}):
                found.append(row)
                if len(found) == flt.limit:
                    return RunPage([run_list_view(r) for r in found], upper, scanned)
        if len(rows) < SCAN_PAGE:  # nothing older is left
            return RunPage([run_list_view(r) for r in found], None, scanned)
        if scanned >= MAX_SCAN or time.monotonic() >= deadline:  # the cursor goes on from here
            return RunPage([run_list_view(r) for r in found], upper, scanned)
