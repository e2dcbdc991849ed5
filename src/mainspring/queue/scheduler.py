"""Cron: each schedule keeps one queue item for its next slot; firing it emits the tick event
for the owning function only and queues the following slot.

A slot's item and its tick event are idempotent per (function, slot): the queue item by its
dedupe key, the event by its id `<slug>:<slot>` and the run by its (function, event id) key, so
two processes can never both start a run for one slot. A slot missed while the server was down
fires once at start-up; the schedule then continues from now (older missed slots are skipped).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from mainspring.clock import Clock
from mainspring.domain import cron
from mainspring.domain import events as names
from mainspring.domain.durations import rfc3339
from mainspring.domain.functions import CronSchedule, FunctionDef, Functions
from mainspring.domain.queue import Kind, QueueItem
from mainspring.ingest import accept
from mainspring.ingest import events as event_input
from mainspring.runs.transitions import Effects
from mainspring.store.base import Tx
from mainspring.store.repos import queue as queue_repo

log = logging.getLogger("mainspring.cron")


def _queue_slot(tx: Tx, function: FunctionDef, schedule: CronSchedule, slot: int, now: int) -> None:
    fire_at = slot + cron.jitter_for(
        slot, f"{function.id}:{schedule.expression}", schedule.jitter_ms
    )
    queue_repo.enqueue(
        tx,
        kind=Kind.CRON,
        run_id="",
        available_at=fire_at,
        now=now,
        dedupe_key=f"cron:{function.id}:{schedule.expression}:{slot}",
        payload={"slug": function.slug, "cron": schedule.expression, "slot": slot},
    )


def install(tx: Tx, functions: list[FunctionDef], now: int) -> None:
    """Make sure every schedule has its next slot queued (after a sync or at start-up)."""
    for function in functions:
        for schedule in function.schedules:
            try:
                slot = cron.next_after(cron.parse(schedule.expression), now)
            except ValueError:
                log.warning(
                    "skipping invalid schedule %r of %s", schedule.expression, function.slug
                )
                continue
            _queue_slot(tx, function, schedule, slot, now)


def tick_event(
    function: FunctionDef, expression: str, slot: int, fire_at: int
) -> dict[str, object]:
    scheduled_at = rfc3339(slot)
    return {
        "name": names.SCHEDULED_TIMER,
        "id": f"{function.slug}:{scheduled_at}",
        "data": {"cron": expression, "scheduledAt": scheduled_at, "fireAt": rfc3339(fire_at)},
        "ts": fire_at,
    }


class Scheduler:
    def __init__(
        self,
        ingest_service: accept.Ingest,
        functions: Functions,
        clock: Clock,
        *,
        is_held: Callable[[str], bool] = lambda slug: False,
    ) -> None:
        self._ingest = ingest_service
        self._functions = functions
        self._clock = clock
        self._is_held = is_held  # a paused function's slot is skipped, not fired late

    async def fire(self, item: QueueItem) -> None:
        now = self._clock()
        payload = item.payload or {}
        function = self._functions.get(str(payload.get("slug")))
        expression = str(payload.get("cron"))
        schedule = (
            next((s for s in function.schedules if s.expression == expression), None)
            if function
            else None
        )
        slot = int(payload.get("slot", now))
        held = function is not None and self._is_held(function.slug)

        def unit(tx: Tx, effects: Effects) -> None:
            queue_repo.delete(tx, item.id)
            if function is None or schedule is None:
                return  # the function or this schedule was removed by a re-sync
            if held:
                log.info("skipping cron slot of paused function %s", function.slug)
                effects.woken += 1  # nothing started: wake the worker for the next slot anyway
            else:
                self._emit(tx, function, expression, slot, now, effects)
            next_slot = cron.next_after(cron.parse(expression), max(now, slot))
            _queue_slot(tx, function, schedule, next_slot, now)

        await self._ingest.run_unit(unit)

    def _emit(
        self,
        tx: Tx,
        function: FunctionDef,
        expression: str,
        slot: int,
        now: int,
        effects: Effects,
    ) -> None:
        event = tick_event(function, expression, slot, now)
        emitted = event_input.prepare([event], self._functions, now, internal=True)
        for prepared in emitted:
            prepared.matches = [function]  # the tick starts its owner only
        accept.process_events(tx, emitted, now, self._functions, effects)
