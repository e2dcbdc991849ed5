"""Timers of debounce and batchEvents: start the collected run once its time has come."""

from __future__ import annotations

from mainspring.clock import Clock
from mainspring.domain.queue import QueueItem
from mainspring.ingest import accept
from mainspring.ingest import collect as flow_collect
from mainspring.runs.transitions import Effects
from mainspring.store.base import Tx
from mainspring.store.repos import queue as queue_repo


class FlowTimers:
    def __init__(self, ingest_service: accept.Ingest, clock: Clock) -> None:
        self._ingest = ingest_service
        self._clock = clock

    async def fire(self, item: QueueItem) -> None:
        now = self._clock()
        key = str((item.payload or {}).get("key", ""))
        functions = self._ingest.functions

        def unit(tx: Tx, effects: Effects) -> None:
            due = flow_collect.take_due(tx, key, now)
            if due.later is not None:  # a newer event moved the debounce timer
                queue_repo.reschedule(tx, item.id, attempt=0, available_at=due.later)
                effects.woken += 1
                return
            queue_repo.delete(tx, item.id)
            function = functions.get(due.function_slug) if due.function_slug else None
            if function is not None:
                accept.start_collected(tx, function, list(due.event_ids), now, functions, effects)

        await self._ingest.run_unit(unit)
