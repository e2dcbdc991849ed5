"""Read side for the REST API and dashboard: runs, steps, events, apps as JSON-ready dicts."""

from __future__ import annotations

import asyncio
from typing import Any

from mainspring import codec, errors
from mainspring.domain.durations import rfc3339
from mainspring.domain.events import Event
from mainspring.domain.runs import RunState
from mainspring.store.base import Connector, Row
from mainspring.store.repos import apps as apps_repo
from mainspring.store.repos import events as events_repo
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo

MAX_LIMIT = 1000


def run_view(row: Row) -> dict[str, Any]:
    return {
        "run_id": row["id"],
        "function_id": row["function_slug"],
        "function_version": 1,
        "environment_id": "dev",
        "event_id": row["event_id"],
        "status": row["status"],
        "output": codec.loads(row["output"]),
        "run_started_at": rfc3339(row["started_at"]),
        "ended_at": rfc3339(row["ended_at"]),
        "created_at": rfc3339(row["created_at"]),
    }


def event_view(event: Event) -> dict[str, Any]:
    return {
        "internal_id": event.internal_id,
        "id": event.id,
        "name": event.name,
        "data": event.data,
        "user": event.user,
        "ts": event.ts,
        "v": event.v,
        "received_at": rfc3339(event.received_at),
        "source": "api",
    }


def step_view(row: Row) -> dict[str, Any]:
    memo = codec.loads(row["memo"])
    is_wrapped = isinstance(memo, dict) and set(memo) <= {"data", "error"} and bool(memo)
    return {
        "id": row["step_id"],
        "name": row["name"],
        "op": row["op"],
        "output": memo.get("data") if is_wrapped else memo,
        "error": memo.get("error") if is_wrapped else None,
        "attempts": row["attempts"],
        "completed_at": row["completed_at"],
    }


def history_view(row: Row) -> dict[str, Any]:
    return {
        "at": row["at"],
        "kind": row["kind"],
        "step_id": row["step_id"],
        "step_name": row["step_name"],
        "attempt": row["attempt"],
        "data": codec.loads(row["data"]),
    }


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

    async def steps(self, run_id: str) -> list[dict[str, Any]]:
        rows = await self._connector.read(lambda tx: runs_repo.list_steps(tx, run_id))
        return [step_view(row) for row in rows]

    async def history(self, run_id: str) -> list[dict[str, Any]]:
        rows = await self._connector.read(lambda tx: runs_repo.list_history(tx, run_id))
        return [history_view(row) for row in rows]

    async def event(self, internal_id: str) -> dict[str, Any] | None:
        event = await self._connector.read(lambda tx: events_repo.get_event(tx, internal_id))
        return None if event is None else event_view(event)

    async def events(self, name: str | None, limit: int) -> list[dict[str, Any]]:
        limit = max(1, min(limit, MAX_LIMIT))
        found = await self._connector.read(lambda tx: events_repo.list_events(tx, name, limit))
        return [event_view(event) for event in found]

    async def apps(self) -> list[Row]:
        return await self._connector.read(apps_repo.list_apps)
