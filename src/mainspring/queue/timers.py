"""Queue items that are only time: a wait or invoke that ran out, a run past its timeouts, the
end of a debounce period or batch timeout (start the collected run once its time has come)."""

from __future__ import annotations

from mainspring.clock import Clock
from mainspring.domain.queue import QueueItem
from mainspring.domain.runs import RunStatus
from mainspring.ingest import accept
from mainspring.ingest import collect as flow_collect
from mainspring.runs import transitions
from mainspring.runs.transitions import Effects
from mainspring.store.base import Tx
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo


class Timers:
    def __init__(self, ingest_service: accept.Ingest, clock: Clock) -> None:
        self._ingest = ingest_service
        self._clock = clock

    async def pause_timeout(self, item: QueueItem) -> None:
        now = self._clock()
        pause_id = str((item.payload or {}).get("pause_id", ""))

        def unit(tx: Tx, effects: Effects) -> None:
            if transitions.expire_pause(tx, pause_id, now):
                effects.woken += 1
            queue_repo.delete(tx, item.id)

        await self._ingest.run_unit(unit)

    async def run_timeout(self, item: QueueItem) -> None:
        """`timeouts.start`: no call yet; `timeouts.finish`: still running. Either cancels."""
        now = self._clock()
        functions = self._ingest.functions

        def unit(tx: Tx, effects: Effects) -> None:
            queue_repo.delete(tx, item.id)
            row = runs_repo.get_run(tx, item.run_id)
            if row is None or row["status"] != RunStatus.RUNNING.value:
                return
            if item.step_name == "start" and row["started_at"] is not None:
                return
            runs_repo.add_history(tx, item.run_id, now, f"run.timeout.{item.step_name}")
            accept.cancel_run(tx, item.run_id, now, functions, effects)

        await self._ingest.run_unit(unit)

    async def flow_fire(self, item: QueueItem) -> None:
        """A debounce or batch timer: start the collected run, unless a newer event moved it."""
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
