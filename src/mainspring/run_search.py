"""The filtered run list shared by the Runs page and the REST run listing.

Indexed filters (function, status, app, time range) go to SQL; a CEL `query` over the triggering
event is evaluated here over a bounded scan (newest first, at most SCAN_LIMIT rows and
SCAN_BUDGET_S seconds), so a rare match never makes a request read 100,000 rows: the page says when
the scan stopped early and offers the cursor to go on.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mainspring import codec, errors, expressions
from mainspring.domain.durations import parse_instant_ms, rfc3339
from mainspring.domain.runs import RunStatus
from mainspring.store.base import Connector, Row
from mainspring.store.repos import apps as apps_repo
from mainspring.store.repos import browse

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
SCAN_LIMIT = 5000  # rows a CEL query may examine per request
SCAN_BUDGET_S = 0.12  # and time: cel-python takes ~0.13 ms per row, pages must stay < 200 ms
SCAN_BATCH = 200


@dataclass(frozen=True, slots=True)
class RunQuery:
    where: browse.RunFilter = field(default_factory=browse.RunFilter)
    query: str | None = None
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(slots=True)
class RunPage:
    runs: list[dict[str, Any]]
    next_cursor: str | None
    scanned: int = 0
    scan_limited: bool = False


def _instant(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        return parse_instant_ms(text)
    except ValueError:
        raise errors.InvalidInput(f"{name} must be an RFC 3339 instant", field=name) from None


def parse_query(params: Mapping[str, str], app_ids: Mapping[str, str]) -> RunQuery:
    """Filters from query parameters (`app_ids`: app name to id); bad input names the field."""
    status = params.get("status", "").strip() or None
    if status is not None and status not in {s.value for s in RunStatus}:
        allowed = ", ".join(s.value for s in RunStatus)
        raise errors.InvalidInput(f"status must be one of {allowed}", field="status")
    app = params.get("app", "").strip() or None
    if app is not None and app not in app_ids:
        raise errors.InvalidInput(f"unknown app {app!r}", field="app")
    limit_text = params.get("limit", "").strip()
    if limit_text and not (limit_text.isdigit() and 1 <= int(limit_text) <= MAX_LIMIT):
        raise errors.InvalidInput(f"limit must be 1 to {MAX_LIMIT}", field="limit")
    query = params.get("query", "").strip() or None
    if query is not None:
        try:
            expressions.compile_expression(query)
        except errors.InvalidInput as exc:
            raise errors.InvalidInput(exc.message, field="query") from None
    where = browse.RunFilter(
        slug=(params.get("function_id") or params.get("function") or "").strip() or None,
        status=status,
        app_id=None if app is None else app_ids[app],
        created_after=_instant(params, "from"),
        created_before=_instant(params, "to"),
    )
    return RunQuery(
        where=where,
        query=query,
        cursor=params.get("cursor", "").strip() or None,
        limit=int(limit_text) if limit_text else DEFAULT_LIMIT,
    )


def run_row_view(row: Row) -> dict[str, Any]:
    started, ended = row["started_at"], row["ended_at"]
    return {
        "run_id": row["id"],
        "function_id": row["function_slug"],
        "status": row["status"],
        "event_id": row["event_id"],
        "trigger": row["event_name"],
        "created_at": rfc3339(row["created_at"]),
        "run_started_at": rfc3339(started),
        "ended_at": rfc3339(ended),
        "duration_ms": None if started is None or ended is None else ended - started,
    }


def _matches(row: Row, query: str) -> bool:
    event = {"name": row["event_name"], "data": codec.loads(row["event_data"]) or {}}
    return expressions.evaluate_bool(query, {"event": event})


class RunSearch:
    def __init__(self, connector: Connector) -> None:
        self._connector = connector

    async def app_ids(self) -> dict[str, str]:
        rows = await self._connector.read(apps_repo.list_apps)
        return {row["name"]: row["id"] for row in rows}

    async def parse(self, params: Mapping[str, str]) -> RunQuery:
        return parse_query(params, await self.app_ids())

    async def search(self, request: RunQuery) -> RunPage:
        if request.query is None:
            rows = await self._fetch(request.where, request.cursor, request.limit)
            more = len(rows) == request.limit
            return RunPage(
                [run_row_view(row) for row in rows], rows[-1]["id"] if more and rows else None
            )
        return await self._scan(request, request.query)

    async def _fetch(self, where: browse.RunFilter, cursor: str | None, limit: int) -> list[Row]:
        return await self._connector.read(lambda tx: browse.search_runs(tx, where, cursor, limit))

    async def _scan(self, request: RunQuery, query: str) -> RunPage:
        found: list[dict[str, Any]] = []
        cursor, scanned = request.cursor, 0
        deadline = time.monotonic() + SCAN_BUDGET_S
        while scanned < SCAN_LIMIT and time.monotonic() < deadline:
            rows = await self._fetch(request.where, cursor, SCAN_BATCH)
            for row in rows:
                scanned += 1
                cursor = row["id"]
                if _matches(row, query):
                    found.append(run_row_view(row))
                    if len(found) == request.limit:
                        return RunPage(found, cursor, scanned)
            if len(rows) < SCAN_BATCH:
                return RunPage(found, None, scanned)
        return RunPage(found, cursor, scanned, scan_limited=True)
