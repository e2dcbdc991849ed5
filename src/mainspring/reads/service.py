"""The read service: runs, steps, history, events and apps for REST, GraphQL and the dashboard.

Every answer is a shape from `reads.views`; lists with filters and cursors go through
`reads.runs` and `reads.events`, over the store's named queries.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mainspring import errors
from mainspring.domain.runs import RunState
from mainspring.reads import events as event_lists
from mainspring.reads import runs as run_lists
from mainspring.reads import sdk_data
from mainspring.reads.events import EventFilter
from mainspring.reads.filters import RunFilter
from mainspring.reads.runs import RunPage
from mainspring.reads.views import (
    event_view,
    history_view,
    job_view,
    run_detail_view,
    run_view,
    step_view,
)
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import apps as apps_repo
from mainspring.store.repos import defers as defers_repo
from mainspring.store.repos import events as events_repo
from mainspring.store.repos import metadata as metadata_repo
from mainspring.store.repos import operations as ops_repo
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo
from mainspring.store.repos import spans as spans_repo

MAX_LIMIT = 1000
_Added = list[dict[str, Any]]  # what an SDK added to a run (metadata updates, defers)


class Reads:
    def __init__(self, connector: Connector) -> None:
        self._connector = connector

    async def database_ok(self, timeout_s: float = 2.0) -> bool:
        """One trivial read: False when the database cannot answer in time."""
        try:
            await asyncio.wait_for(self._connector.read(queue_repo.ping), timeout_s)
        except (errors.StoreError, TimeoutError):
            return False
        return True

    async def state(self, run_id: str) -> RunState | None:
        """Events and memoized steps, as the SDK fetches them on the `use_api` path."""
        return await self._connector.read(lambda tx: runs_repo.load_state(tx, run_id))

    async def run(self, run_id: str) -> dict[str, Any] | None:
        row = await self._connector.read(lambda tx: runs_repo.get_run(tx, run_id))
        return None if row is None else run_view(row)

    async def run_detail(self, run_id: str) -> dict[str, Any] | None:
        """The run view plus `original_run_id` / `replay_id` when it is a rerun, `held`: true
        while its next call waits for a resume (paused function or kill switch), and the
        metadata and defers the SDK added."""

        def unit(tx: Tx) -> tuple[Row | None, Row | None, bool, _Added, _Added]:
            row = runs_repo.get_run(tx, run_id)
            if row is None:
                return None, None, False, [], []
            added = metadata_repo.list_for_run(tx, run_id), defers_repo.list_for_run(tx, run_id)
            return row, ops_repo.origin(tx, run_id), ops_repo.run_held(tx, run_id), *added

        row, origin, held, updates, defers = await self._connector.read(unit)
        if row is None:
            return None
        return run_detail_view(
            run_view(row),
            origin,
            held,
            sdk_data.metadata_views(updates),
            [sdk_data.defer_view(defer) for defer in defers],
        )

    async def metadata(self, run_id: str) -> list[dict[str, Any]]:
        """The run's metadata rolled up: one entry per (scope, step, span, kind)."""
        updates = await self._connector.read(lambda tx: metadata_repo.list_for_run(tx, run_id))
        return sdk_data.metadata_views(updates)

    async def userland_spans(self, run_id: str) -> list[dict[str, Any]]:
        """The run's userland spans in start order, flat (`sdk_data.nest` makes trees)."""
        rows = await self._connector.read(lambda tx: spans_repo.list_for_run(tx, run_id))
        return [sdk_data.span_view(row) for row in rows]

    async def runs(
        self,
        *,
        event_id: str | None = None,
        slug: str | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        limit = max(1, min(limit, MAX_LIMIT))
        rows = await self._connector.read(
            lambda tx: runs_repo.list_runs(
                tx, event_id=event_id, slug=slug, status=status, limit=limit
            )
        )
        return [run_view(row) for row in rows]

    async def run_page(self, flt: RunFilter) -> RunPage:
        """Runs matching `flt`, newest first; see `reads.filters.parse_run_filter`."""
        return await self._connector.read(lambda tx: run_lists.select(tx, flt))

    async def run_count(self, flt: RunFilter) -> int:
        """How many runs match `flt` (see `reads.runs.count`)."""
        return await self._connector.read(lambda tx: run_lists.count(tx, flt))

    async def runs_of_events(self, event_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The runs each event started, for many events in one query (oldest run first)."""
        rows = await self._connector.read(lambda tx: runs_repo.list_runs_by_events(tx, event_ids))
        found: dict[str, list[dict[str, Any]]] = {event_id: [] for event_id in event_ids}
        for row in rows:
            found.setdefault(row["event_id"], []).append(run_view(row))
        return found

    async def steps(self, run_id: str) -> list[dict[str, Any]]:
        rows = await self._connector.read(lambda tx: runs_repo.list_steps(tx, run_id))
        return [step_view(row) for row in rows]

    async def history(self, run_id: str) -> list[dict[str, Any]]:
        rows = await self._connector.read(lambda tx: runs_repo.list_history(tx, run_id))
        return [history_view(row) for row in rows]

    async def jobs(self, run_id: str) -> list[dict[str, Any]]:
        """Queue items of a run (`GET /v1/runs/{id}/jobs`); a held item shows `held: true`."""
        rows = await self._connector.read(lambda tx: ops_repo.run_jobs(tx, run_id))
        return [job_view(row, ops_repo.PARKED_AT) for row in rows]

    async def event(self, internal_id: str) -> dict[str, Any] | None:
        event = await self._connector.read(lambda tx: events_repo.get_event(tx, internal_id))
        return None if event is None else event_view(event)

    async def events(self, name: str | None, limit: int) -> list[dict[str, Any]]:
        limit = max(1, min(limit, MAX_LIMIT))
        found = await self._connector.read(lambda tx: events_repo.list_events(tx, name, limit))
        return [event_view(event) for event in found]

    async def events_by_ids(self, internal_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Several events by internal id in one query; unknown ids are absent."""
        found = await self._connector.read(lambda tx: events_repo.get_events(tx, internal_ids))
        return {event.internal_id: event_view(event) for event in found}

    async def event_page(self, flt: EventFilter) -> tuple[list[dict[str, Any]], str | None]:
        """Events matching `flt`, newest first, and the cursor of the next page."""
        return await self._connector.read(lambda tx: event_lists.select(tx, flt))

    async def event_count(self, flt: EventFilter) -> int:
        """How many events match `flt` (see `reads.events.count`)."""
        return await self._connector.read(lambda tx: event_lists.count(tx, flt))

    async def apps(self) -> list[Row]:
        """The apps not deleted, by name."""
        return await self._connector.read(apps_repo.list_apps)

    async def app(self, app_id: str) -> Row | None:
        """One app by id, deleted or not."""
        return await self._connector.read(lambda tx: apps_repo.get_app(tx, app_id))

    async def function_row(self, slug: str) -> Row | None:
        """One function's stored row, archived or not (the registry holds the active ones)."""
        return await self._connector.read(lambda tx: apps_repo.get_function_by_slug(tx, slug))
